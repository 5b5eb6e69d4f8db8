"""GalleryIndex on the tiny searcher: a folder and a short video (written here with
OpenCV), interrupt and resume, append, search, a mismatched model, a corrupt file."""
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

import mmssl.apis.gallery_indexing as indexing
from mmssl.apis import (GalleryIndex, detect_and_embed, detect_and_embed_batch,
                        embed_query, init_searcher)
from mmssl.apis.gallery_model import crop_canvas
from mmssl.testing.footage import write_test_video

FPS = 4.0


@pytest.fixture(scope='module')
def footage(tiny_searcher, tmp_path_factory):
    """6 frames and a corrupt file in a folder; an 8-frame MJPG video."""
    root = tmp_path_factory.mktemp('footage')
    frames = sorted(Path(tiny_searcher['data_root'], 'frames').glob('*.jpg'))[:8]
    folder = root / 'images'
    (folder / 'cam2').mkdir(parents=True)
    for i, frame in enumerate(frames[:6]):
        shutil.copy(frame, folder / ('cam2' if i >= 4 else '') / frame.name)
    (folder / 'broken.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    video = write_test_video(str(root / 'walk.avi'), frames, FPS)
    return dict(folder=str(folder), video=str(video),
                images=sorted(str(p) for p in folder.rglob('c*.jpg')))


@pytest.fixture
def warnings(monkeypatch):
    """Messages logged by the footage readers."""
    messages = []
    monkeypatch.setattr('mmssl.apis.gallery_sources.print_log',
                        lambda msg, **kwargs: messages.append(str(msg)))
    return messages


@pytest.fixture
def model_calls(monkeypatch):
    """Count the frames sent to the model; ``fail_at`` interrupts the n-th call."""
    state = dict(frames=0, calls=0, fail_at=None)

    def counted(model, images):
        state['calls'] += 1
        if state['calls'] == state['fail_at']:
            raise KeyboardInterrupt
        state['frames'] += len(images)
        return detect_and_embed_batch(model, images)

    monkeypatch.setattr(indexing, 'detect_and_embed_batch', counted)
    return state


def video_frames(path):
    capture, frames = cv2.VideoCapture(path), []
    while True:
        ok, image = capture.read()
        if not ok:
            return frames
        frames.append(image)


def table(index):
    rows = index.store.detections(range(len(index)))
    return [(Path(r['source']).name, r['frame'], r['time'], r['bbox'], r['score'])
            for _, r in sorted(rows.items())]


def assert_same_table(index, reference):
    """Same rows in the same order (boxes and scores up to float noise: the
    reference may have run other batch sizes)."""
    got, want = table(index), table(reference)
    assert [r[:3] for r in got] == [r[:3] for r in want]
    np.testing.assert_allclose([r[3] + [r[4]] for r in got],
                               [r[3] + [r[4]] for r in want], atol=1e-3)


def vectors(index):
    return index.vectors.reconstruct_n(0, index.vectors.ntotal)


def test_batches_equal_single_images(searcher, footage):
    batch = detect_and_embed_batch(searcher, footage['images'][:3])
    assert detect_and_embed_batch(searcher, []) == []
    for path, dets in zip(footage['images'][:3], batch):
        single = detect_and_embed(searcher, path)
        for key in ('bboxes', 'scores', 'embeddings'):
            np.testing.assert_allclose(dets[key], single[key], atol=1e-4)


def test_index_a_folder(searcher, footage, tmp_path, warnings):
    scores = np.concatenate([detect_and_embed(searcher, p)['scores']
                             for p in footage['images']])
    thr = float(np.median(scores))  # the tiny model's scores are all alike
    index = GalleryIndex.build(searcher, str(tmp_path / 'index'),
                               images=footage['folder'], score_thr=thr,
                               progress=False)
    expected_rows, expected_feats = [], []
    for path in footage['images']:  # sorted, sub-folders included
        dets = detect_and_embed(searcher, path)
        keep = dets['scores'] >= thr
        expected_feats.append(dets['embeddings'][keep])
        expected_rows += [(Path(path).name, 0, None, box, score) for box, score in
                          zip(dets['bboxes'][keep].tolist(),
                              dets['scores'][keep].tolist())]
    assert 0 < len(index) == len(expected_rows) < len(scores)
    for got, want in zip(table(index), expected_rows):
        assert got[:3] == want[:3]
        np.testing.assert_allclose(got[3], want[3], atol=1e-3)
        assert got[4] == pytest.approx(want[4], abs=1e-5)
    np.testing.assert_allclose(vectors(index), np.concatenate(expected_feats),
                               atol=1e-4)
    broken = [s for s in index.sources() if s['path'].endswith('broken.jpg')]
    assert broken[0]['status'] == 'unreadable'
    assert any('broken.jpg: unreadable image, skipped' in w for w in warnings)
    assert index.meta['complete'] and index.meta['embed_dim'] == 32
    assert index.frame_size() == cv2.imread(footage['images'][0]).shape[:2]


def test_frames_without_detections(tiny_searcher, footage, tmp_path):
    blind = init_searcher(tiny_searcher['config'], tiny_searcher['checkpoint'],
                          cfg_options={'model.test_cfg.rcnn.score_thr': 1.01})
    assert len(detect_and_embed(blind, footage['images'][0])['scores']) == 0
    index = GalleryIndex.build(blind, str(tmp_path / 'index'), video=footage['video'],
                               images=footage['images'][:2], progress=False)
    assert len(index) == 0 and index.search(np.ones(32), k=3) == []
    assert [(s['status'], s['frames_indexed']) for s in index.sources()] == [
        ('done', 1), ('done', 1), ('done', 8)]


def test_index_a_video(searcher, footage, tmp_path):
    index = GalleryIndex.build(searcher, str(tmp_path / 'index'),
                               video=footage['video'], every=3, score_thr=0.0,
                               progress=False)
    frames = video_frames(footage['video'])
    assert len(frames) == 8
    rows = table(index)
    assert sorted({r[1] for r in rows}) == [0, 3, 6]
    assert {r[1]: r[2] for r in rows} == {0: 0.0, 3: 0.75, 6: 1.5}
    expected = np.concatenate([detect_and_embed(searcher, frames[f])['embeddings']
                               for f in (0, 3, 6)])
    np.testing.assert_allclose(vectors(index), expected, atol=1e-4)
    source = index.sources()[0]
    assert (source['kind'], source['status'], source['frames_indexed']) == (
        'video', 'done', 3)


def test_interrupted_images_resume_without_redoing(searcher, footage, tmp_path,
                                                   model_calls):
    reference = GalleryIndex.build(searcher, str(tmp_path / 'reference'),
                                   images=footage['folder'], score_thr=0.0,
                                   progress=False)
    model_calls.update(frames=0, calls=0, fail_at=3)
    directory = str(tmp_path / 'index')
    index = GalleryIndex.create(directory, searcher, score_thr=0.0)
    with pytest.raises(KeyboardInterrupt):
        index.add_images(footage['folder'], batch_size=1, progress=False)
    index.close()
    on_disk = GalleryIndex.load(directory, model=searcher)
    assert not on_disk.meta['complete']
    assert on_disk.meta['run_input'] == dict(kind='images', path=footage['folder'])
    assert [Path(s['path']).name for s in on_disk.sources() if s['status'] == 'done'
            ] == [Path(p).name for p in footage['images'][:2]]  # the 2 finished
    assert 0 < len(on_disk) < len(reference)
    model_calls.update(frames=0, calls=0, fail_at=None)
    summary = on_disk.add_images(footage['folder'], progress=False)
    assert summary['already_indexed'] == 2
    assert model_calls['frames'] == len(footage['images']) - 2
    assert on_disk.meta['complete']
    assert_same_table(on_disk, reference)
    np.testing.assert_allclose(vectors(on_disk), vectors(reference), atol=1e-4)
    again = on_disk.add_images(footage['folder'], progress=False)  # all done
    assert again['frames'] == 0 and again['already_indexed'] == 6
    assert [Path(p).name for p in again['unreadable']] == ['broken.jpg']  # retried


def test_interrupted_video_resumes_at_its_next_frame(searcher, footage, tmp_path,
                                                     model_calls):
    reference = GalleryIndex.build(searcher, str(tmp_path / 'reference'),
                                   video=footage['video'], every=2, score_thr=0.0,
                                   batch_size=2, progress=False)
    model_calls.update(frames=0, calls=0, fail_at=2)
    directory = str(tmp_path / 'index')
    index = GalleryIndex.create(directory, searcher, score_thr=0.0)
    with pytest.raises(KeyboardInterrupt):
        index.add_video(footage['video'], every=2, batch_size=2, progress=False)
    index.close()
    on_disk = GalleryIndex.load(directory, model=searcher)
    source = on_disk.sources()[0]
    assert (source['status'], source['next_frame'], source['frames_indexed']) == (
        'partial', 4, 2)
    assert sorted({r[1] for r in table(on_disk)}) == [0, 2]
    with pytest.raises(ValueError, match='partly indexed with every=2'):
        on_disk.add_video(footage['video'], every=3, progress=False)
    model_calls.update(frames=0, calls=0, fail_at=None)
    summary = on_disk.add_video(footage['video'], every=2, batch_size=2,
                                progress=False)
    assert summary['start_frame'] == 4 and model_calls['frames'] == 2  # 4 and 6
    assert_same_table(on_disk, reference)
    np.testing.assert_allclose(vectors(on_disk), vectors(reference), atol=1e-4)
    assert on_disk.add_video(footage['video'], every=2)['already_indexed']


def test_append_a_video_to_an_image_index(searcher, footage, tmp_path):
    directory = str(tmp_path / 'index')
    images = GalleryIndex.build(searcher, directory, images=footage['folder'],
                                score_thr=0.0, progress=False)
    num_images = len(images)
    images.close()
    index = GalleryIndex.load(directory, model=searcher)
    index.add_video(footage['video'], every=4, progress=False)
    kinds = [r[0] for r in table(index)]
    assert len(index) > num_images and kinds[num_images:] == ['walk.avi'] * (
        len(index) - num_images)
    reloaded = GalleryIndex.load(directory)
    assert len(reloaded) == len(index) and len(reloaded.sources()) == 8


def test_search_ranks_every_indexed_detection(searcher, footage, tmp_path):
    index = GalleryIndex.build(searcher, images=footage['images'], score_thr=0.0,
                               progress=False)
    query_image, box = footage['images'][0], [20, 10, 40, 70]
    feature = embed_query(searcher, cv2.imread(query_image), box)
    matches = index.search((cv2.imread(query_image), box), k=len(index))
    order = np.argsort(-(vectors(index) @ feature), kind='stable')
    assert [m.row for m in matches] == order.tolist()
    np.testing.assert_allclose([m.similarity for m in matches],
                               (vectors(index) @ feature)[order], atol=1e-5)
    others = index.search(feature, k=5, exclude_source=str(Path(query_image)))
    assert len(others) == 5 and all(m.source != query_image for m in others)


def test_person_crop_queries(searcher, footage):
    index = GalleryIndex.build(searcher, images=footage['images'][:2], score_thr=0.0,
                               progress=False)
    crop = cv2.imread(footage['images'][0])[10:70, 20:40]
    height, width = index.frame_size()
    canvas, box = crop_canvas(crop, (height, width))
    x1, y1 = (width - 20) // 2, (height - 60) // 2  # centred at its own size
    assert canvas.shape == (height, width, 3) and box == [x1, y1, x1 + 20, y1 + 60]
    np.testing.assert_array_equal(canvas[y1:y1 + 60, x1:x1 + 20], crop)
    assert (canvas[0, 0] == np.concatenate([crop[0], crop[-1], crop[:, 0],
                                            crop[:, -1]]).mean(axis=0).astype(
                                                np.uint8)).all()
    np.testing.assert_allclose(index.query_feature(crop),
                               embed_query(searcher, canvas, box), atol=1e-6)
    large, big_box = crop_canvas(np.zeros((300, 50, 3), np.uint8), (96, 128))
    assert large.shape == (96, 128, 3) and big_box[3] - big_box[1] == 96
    with pytest.raises(ValueError, match='is not an image'):
        crop_canvas(np.zeros((1, 5, 3), np.uint8), (96, 128))


def test_a_mismatched_model_is_refused(searcher, upscaled_searcher, tiny_searcher,
                                       footage, tmp_path):
    directory = str(tmp_path / 'index')
    GalleryIndex.build(searcher, directory, images=footage['images'][:1],
                       score_thr=0.0, progress=False).close()
    smaller = init_searcher(tiny_searcher['config'], cfg_options={
        'model.roi_head.embedding_head.embed_dim': 16})
    with pytest.raises(ValueError, match='holds 32-d embeddings, the model gives 16-d'):
        GalleryIndex.load(directory, model=smaller)
    untrained = init_searcher(tiny_searcher['config'])
    with pytest.raises(ValueError, match='the checkpoint differs'):
        GalleryIndex.load(directory, model=untrained)
    with pytest.raises(ValueError, match='the config differs'):
        GalleryIndex.load(directory, model=upscaled_searcher)
    # another copy of the same config and checkpoint is the same model
    same = init_searcher(tiny_searcher['config'], tiny_searcher['checkpoint'])
    assert len(GalleryIndex.load(directory, model=same)) > 0
