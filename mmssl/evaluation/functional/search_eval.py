"""Person-search evaluation: mAP and top-k accuracy of queries in a gallery.

The protocol is the community one of the SeqNet/NAE/CGPS ``eval_func.py`` (DESIGN.md
section 5), computed on whole arrays:

* Gallery detections with score < ``score_thr`` (0.5) are dropped. Similarity is the
  dot product of the L2-normalised query and detection features.
* The gallery of a query is given by the protocol (docs/internals.md section 2): every
  gallery image but the query's own (``gallery=None``) or an explicit list of images;
  ``exclude_same_camera`` also drops the images of the query's camera.
* The *positive images* of a query are the gallery images holding its person: the boxes
  of the query's person id (``positives=None``, ids < 0 never match) or the explicit
  ``{gallery index: box}`` of the protocol; a positive outside the query's gallery is
  not counted. In a positive image the detections whose IoU with the person's box is at
  least :func:`search_iou_threshold` are candidates, and only the candidate with the
  highest similarity is a hit (one hit at most per image; if the person has several
  boxes in one image, a detection matching any of them is a candidate).
* AP of a query = scikit-learn ``average_precision_score`` over all the detections of
  its gallery (hits are the positives; tied scores form one threshold) times
  ``hits / positive images``; 0 when there is no hit. mAP is the mean over queries.
* top-k = 1 when a hit is among the first k detections. **Tie rule**: a non-hit that
  ties a hit in similarity is ranked before it (pessimistic), so top-k never depends
  on the order of tied detections: the first hit's rank is 1 + the number of non-hits
  whose similarity is >= the best hit's.
* **A query whose person is in no image of its gallery is skipped** (the usual re-id
  practice, e.g. Market-1501 evaluation): it gets AP NaN, is left out of mAP and top-k
  and counted in :attr:`SearchResult.num_skipped`. (The reference code divides 0 by 0
  there.)

Plain numpy; no mmdet import.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .box_iou import aligned_box_iou
from .ragged import expand_ranges, group_offsets
from .search_data import SearchGallery, SearchQueries, _rows

DEFAULT_TOPK: Tuple[int, ...] = (1, 5, 10)
PROTOCOL_KEYS = ('gallery', 'exclude_same_camera', 'positives')
# Bytes of similarities computed at once in the dense (one matrix product) mode.
_CHUNK_BYTES = 32 << 20
# Explicit galleries smaller than 1/_GATHER_RATIO of all detections gather features
# per query instead of taking part in the dense matrix product.
_GATHER_RATIO = 16


def search_iou_threshold(width, height):
    """IoU a detection needs to find a person: ``min(0.5, w*h / ((w+10)*(h+10)))``.

    The small-box rule of the person-search protocol: boxes of a few pixels need less
    overlap. ``width``/``height`` are the ground-truth box's, scalars or arrays.
    """
    width = np.asarray(width, dtype=np.float64)
    height = np.asarray(height, dtype=np.float64)
    thr = np.minimum(0.5, width * height / ((width + 10.0) * (height + 10.0)))
    return float(thr) if thr.ndim == 0 else thr


def l2_normalise(feats: np.ndarray) -> np.ndarray:
    """Rows of ``feats`` divided by their L2 norm, as float32 (zero rows stay zero)."""
    feats = np.asarray(feats, dtype=np.float32)
    norms = np.linalg.norm(feats, axis=1, keepdims=True)
    return feats / np.maximum(norms, np.float32(1e-12))


@dataclass
class SearchResult:
    """Outcome of :func:`evaluate_search`; per-query arrays are indexed by query.

    Attributes:
        topk: the ``k`` values of :meth:`summary`'s ``top{k}`` figures.
        ap: ``(Q,)`` AP (already scaled by the hit rate); NaN where not evaluated.
        first_hit_rank: ``(Q,)`` 1-based rank of the first hit (tie rule in the module
            docstring), ``inf`` without hit, NaN where not evaluated.
        num_positive_images: ``(Q,)`` gallery images holding the query's person.
        num_hits: ``(Q,)`` positive images whose person was found by a detection.
        evaluated: ``(Q,)`` True for the queries that count in mAP and top-k.
        num_skipped: queries asked for whose person is in no gallery image.
        positive_boxes: per query, ``(n, 4)`` ground-truth boxes of its person in its
            gallery (for cross-scale breakdowns).
    """

    topk: Tuple[int, ...]
    ap: np.ndarray
    first_hit_rank: np.ndarray
    num_positive_images: np.ndarray
    num_hits: np.ndarray
    evaluated: np.ndarray
    num_skipped: int
    positive_boxes: List[np.ndarray]

    def summary(self, mask: Optional[np.ndarray] = None) -> Dict[str, float]:
        """mAP and top-k over the evaluated queries (and ``mask`` when given).

        Returns:
            ``dict(mAP=, top1=, ..., num_queries=)``; NaN figures when no query counts.
        """
        selected = self.evaluated if mask is None else self.evaluated & np.asarray(mask)
        out = dict(mAP=float(np.mean(self.ap[selected])) if selected.any() else float('nan'))
        for k in self.topk:
            out[f'top{k}'] = (float(np.mean(self.first_hit_rank[selected] <= k))
                              if selected.any() else float('nan'))
        out['num_queries'] = int(selected.sum())
        return out

    @property
    def mAP(self) -> float:  # noqa: N802 (the figure's usual name)
        """Mean AP over the evaluated queries."""
        return self.summary()['mAP']

    def topk_accuracy(self) -> Dict[int, float]:
        """``{k: fraction of evaluated queries with a hit in the first k}``."""
        figures = self.summary()
        return {k: figures[f'top{k}'] for k in self.topk}


class _ProtocolView:
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


def _positives(view: _ProtocolView, gallery: SearchGallery, queries: SearchQueries,
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


def _rank_one_query(scores: np.ndarray, cand_scores: np.ndarray, cand_img: np.ndarray,
                    num_positive_images: int) -> Tuple[float, float, int]:
    """AP, first-hit rank and number of hits of one query.

    Args:
        scores: similarities of the gallery detections (``-inf`` for detections outside
            the query's gallery).
        cand_scores: similarities of the candidate detections (IoU rule passed).
        cand_img: gallery image of each candidate.
        num_positive_images: positive images of the query (> 0).
    """
    if len(cand_scores) == 0:
        return 0.0, float('inf'), 0
    order = np.lexsort((-cand_scores, cand_img))
    img_sorted = cand_img[order]
    best_of_image = np.ones(len(order), dtype=bool)
    best_of_image[1:] = img_sorted[1:] != img_sorted[:-1]
    hit_scores = np.sort(cand_scores[order][best_of_image])
    num_hits = len(hit_scores)
    # dets_ge[j] = detections with score >= hit_scores[j]; one pass over the gallery.
    above = scores[scores >= hit_scores[0]]
    bins = np.bincount(np.searchsorted(hit_scores, above, side='right'),
                       minlength=num_hits + 1)
    dets_ge = np.cumsum(bins[::-1])[::-1][1:]
    hits_ge = num_hits - np.searchsorted(hit_scores, hit_scores, side='left')
    # scikit-learn AP: sum over thresholds of recall step x precision = mean precision
    # at the hits (tied hits share the precision of their threshold).
    ap = float(np.mean(hits_ge / dets_ge)) * num_hits / num_positive_images
    first_hit_rank = float(dets_ge[-1] - hits_ge[-1] + 1)
    return ap, first_hit_rank, num_hits


def evaluate_search(gallery: SearchGallery,
                    queries: SearchQueries,
                    protocol: dict,
                    score_thr: float = 0.5,
                    topk: Sequence[int] = DEFAULT_TOPK,
                    query_inds: Optional[Union[Sequence[int], np.ndarray]] = None,
                    name: str = 'protocol') -> SearchResult:
    """Evaluate person search (mAP, top-k) under one protocol.

    Args:
        gallery: gallery detections, features and ground truth.
        queries: query features, images, cameras and person ids.
        protocol: ``dict(gallery=None | [int array] * Q, exclude_same_camera=bool,
            positives=None | [{gallery index: [x1, y1, x2, y2]}] * Q)``
            (docs/internals.md section 2).
        score_thr: gallery detections scoring below it are dropped.
        topk: the ``k`` of the top-k accuracies.
        query_inds: queries to evaluate (indices, or a ``(Q,)`` bool mask); all when
            None. The others get NaN and ``evaluated=False``.
        name: protocol name used in error messages.

    Returns:
        :class:`SearchResult`; ``result.summary()`` holds mAP and ``top{k}``.

    Raises:
        ValueError: malformed protocol (the message names the protocol and query) or
            features of different dimensions.
    """
    num_queries = len(queries)
    topk = tuple(int(k) for k in topk)
    if any(k < 1 for k in topk):
        raise ValueError(f'evaluate_search: top-k values must be >= 1, got {topk}')
    if query_inds is None:
        query_inds = np.arange(num_queries)
    else:
        query_inds = np.asarray(query_inds)
        if query_inds.dtype == bool:
            query_inds = np.flatnonzero(query_inds)
        query_inds = np.unique(query_inds.astype(np.int64))
        if len(query_inds) and (query_inds[0] < 0 or query_inds[-1] >= num_queries):
            raise ValueError(f'evaluate_search: query index out of [0, {num_queries})')
    qimg = queries.img_inds
    bad = np.flatnonzero(qimg >= gallery.num_images)
    if len(bad):
        raise ValueError(f'evaluate_search: query {bad[0]} has image index {qimg[bad[0]]} '
                         f'beyond the {gallery.num_images} gallery images')

    # Keep confident detections, grouped by image.
    kept = np.flatnonzero(gallery.det_scores >= score_thr)
    kept = kept[np.argsort(gallery.det_img_inds[kept], kind='stable')]
    det_img = gallery.det_img_inds[kept]
    det_boxes = gallery.det_boxes[kept]
    num_dets = len(kept)
    if num_dets and gallery.det_feats.shape[1] != queries.feats.shape[1]:
        raise ValueError(f'evaluate_search: gallery features are {gallery.det_feats.shape[1]}'
                         f'-d, query features {queries.feats.shape[1]}-d')
    det_feats = (l2_normalise(gallery.det_feats[kept]) if num_dets
                 else np.zeros((0, queries.feats.shape[1]), np.float32))
    query_feats = l2_normalise(queries.feats)
    offsets = group_offsets(det_img, gallery.num_images)
    det_count = np.diff(offsets)

    view = _ProtocolView(protocol, gallery, queries, name)
    pos_q, pos_img, pos_box, gathered = _positives(view, gallery, queries, query_inds,
                                                    det_count)

    # Positive images per query (an image holding two boxes of the person counts once).
    by_q = np.lexsort((pos_img, pos_q))
    pos_q, pos_img, pos_box = pos_q[by_q], pos_img[by_q], pos_box[by_q]
    new_image = np.ones(len(pos_q), dtype=bool)
    new_image[1:] = (pos_q[1:] != pos_q[:-1]) | (pos_img[1:] != pos_img[:-1])
    num_pos_images = np.bincount(pos_q[new_image], minlength=num_queries)
    pos_offsets = group_offsets(pos_q, num_queries)
    positive_boxes = [pos_box[pos_offsets[q]:pos_offsets[q + 1]] for q in range(num_queries)]

    # Candidate detections: in a positive image, IoU >= small-box threshold.
    cand_det, owner = expand_ranges(offsets[pos_img], det_count[pos_img])
    iou = aligned_box_iou(det_boxes[cand_det], pos_box[owner])
    width, height = pos_box[:, 2] - pos_box[:, 0], pos_box[:, 3] - pos_box[:, 1]
    passed = iou >= search_iou_threshold(width, height)[owner]
    cand_det, owner = cand_det[passed], owner[passed]
    cand_q = pos_q[owner]
    order = np.lexsort((cand_det, cand_q))
    cand_q, cand_det = cand_q[order], cand_det[order]
    unique = np.ones(len(cand_q), dtype=bool)
    unique[1:] = (cand_q[1:] != cand_q[:-1]) | (cand_det[1:] != cand_det[:-1])
    cand_q, cand_det = cand_q[unique], cand_det[unique]
    cand_offsets = group_offsets(cand_q, num_queries)

    ap = np.full(num_queries, np.nan)
    first_hit_rank = np.full(num_queries, np.nan)
    num_hits = np.zeros(num_queries, dtype=np.int64)
    evaluated = np.zeros(num_queries, dtype=bool)
    active = query_inds[num_pos_images[query_inds] > 0]
    num_skipped = len(query_inds) - len(active)
    dense = view.gallery_lists is None or gathered * _GATHER_RATIO > len(query_inds) * num_dets
    chunk = max(1, _CHUNK_BYTES // (4 * max(num_dets, 1))) if dense else len(active) or 1
    for start in range(0, len(active), chunk):
        block = active[start:start + chunk]
        sims = query_feats[block] @ det_feats.T if dense else None
        for row, q in enumerate(block):
            dets_q = cand_det[cand_offsets[q]:cand_offsets[q + 1]]
            cand_img = det_img[dets_q]
            if dense:
                scores = sims[row]
                if view.gallery_lists is None:
                    if qimg[q] >= 0:
                        scores[offsets[qimg[q]]:offsets[qimg[q] + 1]] = -np.inf
                    if view.exclude_same_camera:
                        scores[view.cams[det_img] == queries.cam_ids[q]] = -np.inf
                else:
                    np.copyto(scores, -np.inf, where=~view.explicit_gallery(q)[det_img])
                cand_scores = scores[dets_q]
            else:
                gallery_q = np.flatnonzero(view.explicit_gallery(q))
                rows, _ = expand_ranges(offsets[gallery_q], det_count[gallery_q])
                scores = det_feats[rows] @ query_feats[q]
                cand_scores = scores[np.searchsorted(rows, dets_q)]
            ap[q], first_hit_rank[q], num_hits[q] = _rank_one_query(
                scores, cand_scores, cand_img, int(num_pos_images[q]))
            evaluated[q] = True

    return SearchResult(topk=topk, ap=ap, first_hit_rank=first_hit_rank,
                        num_positive_images=num_pos_images, num_hits=num_hits,
                        evaluated=evaluated, num_skipped=num_skipped,
                        positive_boxes=positive_boxes)
