"""The galleries and positives of one search protocol, query by query.

A protocol (docs/internals.md section 2) gives each query its gallery (every gallery
image but the query's own, or an explicit list; optionally without the query's camera)
and its positives (the gallery boxes of its person id, or explicit boxes). These helpers
read it, check it and turn it into flat ``(query, image, box)`` triples for
:func:`.search_eval.evaluate_search`. Plain numpy; no mmdet import.
"""
from typing import Optional, Tuple

import numpy as np

from .ragged import group_offsets
from .search_data import SearchGallery, SearchQueries, _rows

PROTOCOL_KEYS = ('gallery', 'exclude_same_camera', 'positives')


class ProtocolView:
    """Per-query gallery and positives of one protocol dict, validated on access."""

    def __init__(self, protocol: dict, gallery: SearchGallery, queries: SearchQueries,
                 name: str) -> None:
        unknown = set(protocol) - set(PROTOCOL_KEYS)
        if unknown:
            raise ValueError(f'search protocol {name!r}: unknown keys {sorted(unknown)} '
                             f'(expected {PROTOCOL_KEYS})')
        self.name = name
        self.gallery_lists = protocol.get('gallery')
        self.exclude_same_camera = bool(protocol.get('exclude_same_camera', False))
        self.positive_dicts = protocol.get('positives')
        self.cams = gallery.cam_ids
        self.num_images = gallery.num_images
        self.queries = queries
        for key in ('gallery', 'positives'):
            lists = protocol.get(key)
            if lists is not None and len(lists) != len(queries):
                raise ValueError(f'search protocol {name!r}: {key} has {len(lists)} '
                                 f'entries for {len(queries)} queries')

    def _check_images(self, inds: np.ndarray, what: str, q: int) -> None:
        if len(inds) and (inds.min() < 0 or inds.max() >= self.num_images):
            bad = inds[(inds < 0) | (inds >= self.num_images)][0]
            raise ValueError(f'search protocol {self.name!r}, query {q}: {what} index '
                             f'{bad} is not in [0, {self.num_images})')

    def explicit_gallery(self, q: int) -> np.ndarray:
        """``(G,)`` bool mask of the gallery images of query ``q`` (explicit galleries
        only; repeated indices count once)."""
        raw = np.asarray(self.gallery_lists[q])
        if raw.size and not np.issubdtype(raw.dtype, np.integer):
            raise ValueError(f'search protocol {self.name!r}, query {q}: gallery must be '
                             f'integer image indices, got dtype {raw.dtype}')
        inds = raw.astype(np.int64, copy=False).ravel()
        self._check_images(inds, 'gallery', q)
        mask = np.zeros(self.num_images, dtype=bool)
        mask[inds] = True
        if self.exclude_same_camera:
            mask &= self.cams != self.queries.cam_ids[q]
        return mask

    def in_gallery(self, q: int, imgs: np.ndarray,
                   gallery_mask: Optional[np.ndarray]) -> np.ndarray:
        """Bool mask: which of the images ``imgs`` are in query ``q``'s gallery."""
        if gallery_mask is not None:
            return gallery_mask[imgs]
        keep = imgs != self.queries.img_inds[q]
        if self.exclude_same_camera:
            keep &= self.cams[imgs] != self.queries.cam_ids[q]
        return keep

    def explicit_positives(self, q: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(images, boxes)`` of the explicit positives of query ``q``."""
        entry = self.positive_dicts[q]
        if not isinstance(entry, dict):
            raise ValueError(f'search protocol {self.name!r}, query {q}: positives must be '
                             f'a dict {{gallery index: box}}, got {type(entry).__name__}')
        imgs = np.fromiter((int(k) for k in entry), dtype=np.int64, count=len(entry))
        self._check_images(imgs, 'positive', q)
        try:
            boxes = _rows([np.asarray(v, dtype=np.float64).ravel() for v in entry.values()],
                          4, 'boxes')
        except ValueError as err:
            raise ValueError(f'search protocol {self.name!r}, query {q}: positive boxes '
                             f'must be [x1, y1, x2, y2] ({err})') from err
        return imgs, boxes


def find_positives(view: ProtocolView, gallery: SearchGallery, queries: SearchQueries,
               query_inds: np.ndarray, det_count: np.ndarray):
    """Positive (query, image, box) triples in each query's gallery, and the number of
    detections (``det_count`` per image) the explicit galleries hold in all."""
    if view.positive_dicts is None:
        labelled = np.flatnonzero(gallery.gt_person_ids >= 0)
        by_pid = labelled[np.argsort(gallery.gt_person_ids[labelled], kind='stable')]
        pids, starts = np.unique(gallery.gt_person_ids[by_pid], return_index=True)
        ends = np.append(starts[1:], len(by_pid))
    pos_q, pos_img, pos_box = [], [], []
    gathered = 0
    for q in query_inds:
        gallery_q = view.explicit_gallery(q) if view.gallery_lists is not None else None
        if gallery_q is not None:
            gathered += int(det_count @ gallery_q)
        if view.positive_dicts is None:
            pid = queries.person_ids[q]
            slot = np.searchsorted(pids, pid)
            if pid < 0 or slot >= len(pids) or pids[slot] != pid:
                continue
            rows = by_pid[starts[slot]:ends[slot]]
            imgs, boxes = gallery.gt_img_inds[rows], gallery.gt_boxes[rows]
        else:
            imgs, boxes = view.explicit_positives(q)
        keep = view.in_gallery(q, imgs, gallery_q)
        pos_q.append(np.full(int(keep.sum()), q, dtype=np.int64))
        pos_img.append(imgs[keep])
        pos_box.append(boxes[keep])
    if not pos_q:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 4)), gathered
    return np.concatenate(pos_q), np.concatenate(pos_img), np.concatenate(pos_box), gathered


def group_positives(pos_q: np.ndarray, pos_img: np.ndarray, pos_box: np.ndarray,
                     num_queries: int):
    """Sort the positive triples by query then image; count positive images per query.

    An image holding two boxes of the person counts once.

    Returns:
        ``(pos_q, pos_img, pos_box, num_positive_images, positive_boxes)``, the last a
        per-query list of ``(n, 4)`` boxes.
    """
    by_q = np.lexsort((pos_img, pos_q))
    pos_q, pos_img, pos_box = pos_q[by_q], pos_img[by_q], pos_box[by_q]
    new_image = np.ones(len(pos_q), dtype=bool)
    new_image[1:] = (pos_q[1:] != pos_q[:-1]) | (pos_img[1:] != pos_img[:-1])
    num_pos_images = np.bincount(pos_q[new_image], minlength=num_queries)
    offsets = group_offsets(pos_q, num_queries)
    positive_boxes = [pos_box[offsets[q]:offsets[q + 1]] for q in range(num_queries)]
    return pos_q, pos_img, pos_box, num_pos_images, positive_boxes
