"""A local web page over a :class:`~mmssl.apis.GalleryIndex` (Flask).

Choose a query image (a frame of the gallery, or an upload), draw the query box,
see the ranked matches with their frames and the persons enlarged. The page is
``static/index.html`` with ``static/gallery.js``; the JSON and image routes are
below. One lock serialises the model and the index, so the server can run
threaded. Start it with ``tools/serve_gallery.py`` (``docs/gallery.md``); it has no
authentication, so it listens on a loopback address by default.
"""
import secrets
import threading
from collections import OrderedDict
from typing import Optional

import cv2
import numpy as np
from flask import Flask, Response, abort, jsonify, request

from mmssl.apis.gallery_sources import read_source_frame
from mmssl.visualization.search_panel import crop_around_box

BOX_COLOUR = (0, 191, 255)  # BGR of the search panel's amber
MAX_UPLOADS = 32


def _jpeg(image: np.ndarray):
    ok, data = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise ValueError('could not encode the picture')
    return Response(data.tobytes(), mimetype='image/jpeg')


def _draw_box(image: np.ndarray, box) -> np.ndarray:
    image = image.copy()
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    thickness = max(1, round(max(image.shape[:2]) / 300))
    cv2.rectangle(image, (x1, y1), (x2, y2), BOX_COLOUR, thickness)
    return image


def enlarged_crop(image: np.ndarray, box, context: float = 0.25,
                  height: int = 192) -> np.ndarray:
    """The person of ``box`` with ``context`` margin, scaled to ``height`` px
    (nearest neighbour: no invented detail) with the box drawn."""
    crop, crop_box = crop_around_box(image, box, context)
    scale = height / max(crop.shape[0], 1)
    size = (max(1, round(crop.shape[1] * scale)), height)
    crop = cv2.resize(crop, size, interpolation=cv2.INTER_NEAREST)
    return _draw_box(crop, np.asarray(crop_box) * scale)


def create_app(index, max_upload_bytes: int = 20 << 20):
    """The Flask application of the page.

    Args:
        index: a :class:`~mmssl.apis.GalleryIndex` with its model attached.
        max_upload_bytes: the largest query image accepted.
    """
    app = Flask(__name__, static_folder='static', static_url_path='/static')
    app.config['MAX_CONTENT_LENGTH'] = max_upload_bytes
    lock = threading.Lock()
    uploads: 'OrderedDict[str, np.ndarray]' = OrderedDict()

    def fail(message: str, status: int = 400):
        response = jsonify(error=message)
        response.status_code = status
        return response

    def source_frame(source_id: int, frame: int) -> Optional[np.ndarray]:
        source = index.store.source_by_id(source_id)
        if source is None:
            abort(404)
        image = read_source_frame(source['path'], source['kind'], frame)
        if image is None:
            abort(404)
        return image

    @app.get('/')
    def page():
        return app.send_static_file('index.html')

    @app.get('/api/info')
    def info():
        return jsonify(detections=len(index), sources=len(index.sources()),
                       search=index.search_kind, embed_dim=index.embed_dim)

    @app.get('/api/frames')
    def frames():
        limit = min(max(int(request.args.get('limit', 500)), 1), 5000)
        with lock:
            rows = index.store.frames(limit)
        return jsonify(frames=rows)

    @app.get('/api/frame/<int:source_id>/<int:frame>')
    def frame_image(source_id: int, frame: int):
        with lock:
            image = source_frame(source_id, frame)
        box = request.args.get('box')
        if box:
            image = _draw_box(image, [float(v) for v in box.split(',')])
        return _jpeg(image)

    @app.get('/api/crop/<int:row>')
    def crop_image(row: int):
        with lock:
            detection = index.store.detections([row]).get(row)
            if detection is None:
                abort(404)
            image = source_frame(detection['source_id'], detection['frame'])
        return _jpeg(enlarged_crop(image, detection['bbox']))

    @app.post('/api/upload')
    def upload():
        file = request.files.get('image')
        if file is None:
            return fail('no image in the upload (form field "image")')
        data = np.frombuffer(file.read(), dtype=np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if image is None:
            return fail(f'{file.filename}: not a readable image')
        token = secrets.token_hex(8)
        with lock:
            uploads[token] = image
            while len(uploads) > MAX_UPLOADS:
                uploads.popitem(last=False)
        return jsonify(token=token, width=image.shape[1], height=image.shape[0])

    @app.get('/api/upload/<token>')
    def uploaded_image(token: str):
        image = uploads.get(token)
        if image is None:
            abort(404)
        return _jpeg(image)

    @app.post('/api/search')
    def search():
        body = request.get_json(silent=True) or {}
        query, box = body.get('query') or {}, body.get('box')
        try:
            k = int(body.get('k', 10))
            box = [float(v) for v in box]
        except (TypeError, ValueError):
            return fail('give "box": [x1, y1, x2, y2] and an integer "k"')
        if len(box) != 4 or not 1 <= k <= 200:
            return fail('"box" needs 4 numbers and "k" must be in 1..200')
        exclude_source = exclude_frame = None
        with lock:
            if 'upload' in query:
                image = uploads.get(str(query['upload']))
                if image is None:
                    return fail('that upload is gone; upload the image again')
            else:
                try:
                    source_id, frame = int(query['source_id']), int(query['frame'])
                except (KeyError, TypeError, ValueError):
                    return fail('give "query": {"upload": token} or '
                                '{"source_id": n, "frame": n}')
                image = source_frame(source_id, frame)
                if body.get('exclude_query_frame', True):
                    exclude_source = index.store.source_by_id(source_id)['path']
                    exclude_frame = frame
            try:
                matches = index.search((image, box), k=k,
                                       exclude_source=exclude_source,
                                       exclude_frame=exclude_frame)
            except ValueError as err:
                return fail(str(err))
            source_ids = {r['row']: r['source_id'] for r in
                          index.store.detections([m.row for m in matches]).values()}
        return jsonify(matches=[
            dict(m.as_dict(), source_id=source_ids[m.row],
                 frame_url=f'/api/frame/{source_ids[m.row]}/{m.frame}?box=' +
                 ','.join(f'{v:.1f}' for v in m.bbox),
                 crop_url=f'/api/crop/{m.row}')
            for m in matches])

    return app
