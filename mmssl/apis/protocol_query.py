"""One query of a dataset's search protocol: its gallery and where its person is.

:func:`protocol_query` reads ``search_protocol`` (``docs/internals.md`` section 2)
and per-gallery-image ground truth; :func:`match_person_boxes` tells which
detections find the person (the IoU rule of ``docs/evaluation.md`` section 1). Both are plain
numpy. :func:`dataset_protocol_query` feeds them from a test-split dataset.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmssl.evaluation.functional import aligned_box_iou, search_iou_threshold


@dataclass
class ProtocolQuery:
    """A query and its gallery under one named protocol.

    Attributes:
        query_index: position in ``search_protocol['queries']``.
        img_id: the query's image id.
        bbox: ``(4,)`` query box ``[x1, y1, x2, y2]`` (original pixels).
        person_id: the query's person id.
        cam_id: the query's camera id.
        gallery_indices: ``(G_q,)`` sorted indices into ``gallery_img_ids`` of the
            images searched for this query.
        positive_boxes: gallery index -> ``(m, 4)`` boxes of the query's person in
            that image (only images of ``gallery_indices``).
        protocol: the protocol name.
    """
    query_index: int
    img_id: str
    bbox: np.ndarray
    person_id: int
    cam_id: int
    gallery_indices: np.ndarray
    positive_boxes: Dict[int, np.ndarray] = field(default_factory=dict)
    protocol: str = ''


def protocol_query(search_protocol: dict,
                   gallery_cam_ids: Sequence[int],
                   gallery_person_ids: Sequence[np.ndarray],
                   gallery_boxes: Sequence[np.ndarray],
                   query_index: int,
                   protocol: Optional[str] = None) -> ProtocolQuery:
    """Expand one query of a search protocol.

    Args:
        search_protocol: ``dataset.metainfo['search_protocol']``.
        gallery_cam_ids: camera id of each gallery image (``G``).
        gallery_person_ids: per gallery image, ``(n_g,)`` person ids of its boxes.
        gallery_boxes: per gallery image, ``(n_g, 4)`` boxes (original pixels).
        query_index: the query.
        protocol: protocol name; None takes ``search_protocol['default']``.

    Returns:
        The :class:`ProtocolQuery`. Positives are the explicit ones of the protocol
        or, when it gives none, the boxes of the query's person id (ids < 0 never
        match); a positive outside the query's gallery is dropped.

    Raises:
        ValueError: unknown protocol or query, or per-image lists of another length
            than ``gallery_img_ids``.
    """
    queries = search_protocol['queries']
    if not 0 <= query_index < len(queries):
        raise ValueError(f'search protocol: query {query_index} does not exist '
                         f'(there are {len(queries)} queries)')
    galleries = search_protocol['galleries']
    name = search_protocol.get('default') if protocol is None else protocol
    if name not in galleries:
        raise ValueError(f'search protocol: no protocol {name!r} '
                         f'(has {sorted(galleries)})')
    gallery_ids = list(search_protocol['gallery_img_ids'])
    num = len(gallery_ids)
    for what, values in (('camera ids', gallery_cam_ids),
                         ('person id arrays', gallery_person_ids),
                         ('box arrays', gallery_boxes)):
        if len(values) != num:
            raise ValueError(f'search protocol: {len(values)} gallery {what} for '
                             f'{num} gallery images')
    spec = galleries[name]
    query = queries[query_index]
    cams = np.asarray(gallery_cam_ids, dtype=np.int64)
    if spec['gallery'] is None:
        keep = np.array([img_id != query['img_id'] for img_id in gallery_ids],
                        dtype=bool)
    else:
        keep = np.zeros(num, dtype=bool)
        keep[np.asarray(spec['gallery'][query_index], dtype=np.int64)] = True
    if spec['exclude_same_camera']:
        keep &= cams != int(query.get('cam_id', -1))
    gallery = np.flatnonzero(keep)

    positives: Dict[int, List[np.ndarray]] = {}
    if spec['positives'] is None:
        person = int(query['person_id'])
        if person >= 0:
            for index in gallery:
                pids = np.asarray(gallery_person_ids[index]).reshape(-1)
                boxes = np.asarray(gallery_boxes[index],
                                   dtype=np.float64).reshape(-1, 4)
                if (pids == person).any():
                    positives[int(index)] = boxes[pids == person]
    else:
        for index, box in spec['positives'][query_index].items():
            if keep[int(index)]:
                positives[int(index)] = np.asarray(
                    box, dtype=np.float64).reshape(-1, 4)
    return ProtocolQuery(
        query_index=int(query_index),
        img_id=query['img_id'],
        bbox=np.asarray(query['bbox'], dtype=np.float64),
        person_id=int(query['person_id']),
        cam_id=int(query.get('cam_id', -1)),
        gallery_indices=gallery,
        positive_boxes=positives,
        protocol=name)


def match_person_boxes(boxes: np.ndarray, person_boxes: np.ndarray) -> np.ndarray:
    """Which detections find the person: IoU >= ``min(0.5, wh / ((w+10)(h+10)))``.

    Args:
        boxes: ``(n, 4)`` detections of one image.
        person_boxes: ``(m, 4)`` boxes of the person in that image (usually one).

    Returns:
        ``(n,)`` bool, True where a detection matches one of the person's boxes.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    person_boxes = np.asarray(person_boxes, dtype=np.float64).reshape(-1, 4)
    found = np.zeros(len(boxes), dtype=bool)
    for box in person_boxes:
        iou = aligned_box_iou(boxes, np.repeat(box[None], len(boxes), axis=0))
        found |= iou >= search_iou_threshold(box[2] - box[0], box[3] - box[1])
    return found


def dataset_protocol_query(dataset, query_index: int,
                           protocol: Optional[str] = None) -> ProtocolQuery:
    """:func:`protocol_query` for a test-split person-search dataset.

    Args:
        dataset: a test-split :class:`mmssl.datasets.PersonSearchDataset` (its
            first records are the gallery images, in ``gallery_img_ids`` order).
        query_index: the query.
        protocol: protocol name; None takes the dataset's default.

    Raises:
        ValueError: the dataset has no search protocol.
    """
    search_protocol = dataset.metainfo.get('search_protocol')
    if search_protocol is None:
        raise ValueError(f'{type(dataset).__name__} has no search_protocol in its '
                         'metainfo: use the test split')
    cams, pids, boxes = gallery_ground_truth(dataset)
    return protocol_query(search_protocol, cams, pids, boxes, query_index, protocol)


def gallery_ground_truth(dataset):
    """Per gallery image of a test-split dataset: camera id, person ids, boxes.

    Returns:
        ``(cam_ids, person_ids, boxes)``: a list of ints, a list of ``(n,)`` int64
        arrays and a list of ``(n, 4)`` float64 arrays, in ``gallery_img_ids``
        order.
    """
    gallery_ids = dataset.metainfo['search_protocol']['gallery_img_ids']
    cams, pids, boxes = [], [], []
    for index, img_id in enumerate(gallery_ids):
        record = dataset.get_data_info(index)
        if record['img_id'] != img_id or record.get('is_query', False):
            raise ValueError(f'{type(dataset).__name__}: record {index} is '
                             f'{record["img_id"]!r}, expected gallery image '
                             f'{img_id!r}')
        instances = record['instances']
        cams.append(int(record.get('cam_id', -1)))
        pids.append(np.array([i['person_id'] for i in instances], dtype=np.int64))
        boxes.append(np.array([i['bbox'] for i in instances],
                              dtype=np.float64).reshape(-1, 4))
    return cams, pids, boxes
