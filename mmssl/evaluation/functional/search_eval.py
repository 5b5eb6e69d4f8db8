"""Person-search evaluation: mAP and top-k accuracy of queries in a gallery.

The protocol is the community one of the SeqNet/NAE/CGPS ``eval_func.py``
(docs/evaluation.md section 1), computed on whole arrays:

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
from typing import (Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple,
                    Union)

import numpy as np

from .box_iou import aligned_box_iou
from .ragged import expand_ranges, group_offsets
from .search_data import SearchGallery, SearchQueries
from .search_positives import ProtocolView, find_positives, group_positives

DEFAULT_TOPK: Tuple[int, ...] = (1, 5, 10)
SEARCH_SCORE_THR = 0.5
"""Score threshold of the gallery detections in the search figures."""
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


class _KeptDetections(NamedTuple):
    """The gallery detections kept by the score threshold, grouped by image.

    Attributes:
        img: ``(D,)`` non-decreasing gallery image of each detection.
        boxes: ``(D, 4)`` boxes.
        feats: ``(D, d)`` L2-normalised float32 features.
        offsets: ``(G + 1,)`` detections of image ``g`` are ``offsets[g]:offsets[g+1]``.
        count: ``(G,)`` detections per image.
    """
    img: np.ndarray
    boxes: np.ndarray
    feats: np.ndarray
    offsets: np.ndarray
    count: np.ndarray


_Similarities = Iterator[Tuple[int, np.ndarray, np.ndarray]]


def _selected_queries(query_inds, num_queries: int) -> np.ndarray:
    """Sorted unique query indices from indices or a bool mask (all when None)."""
    if query_inds is None:
        return np.arange(num_queries)
    query_inds = np.asarray(query_inds)
    if query_inds.dtype == bool:
        query_inds = np.flatnonzero(query_inds)
    query_inds = np.unique(query_inds.astype(np.int64))
    if len(query_inds) and (query_inds[0] < 0 or query_inds[-1] >= num_queries):
        raise ValueError(f'evaluate_search: query index out of [0, {num_queries})')
    return query_inds


def _kept_detections(gallery: SearchGallery, queries: SearchQueries,
                     score_thr: float) -> _KeptDetections:
    """Detections scoring at least ``score_thr``, grouped by image, features normalised."""
    kept = np.flatnonzero(gallery.det_scores >= score_thr)
    kept = kept[np.argsort(gallery.det_img_inds[kept], kind='stable')]
    if len(kept) and gallery.det_feats.shape[1] != queries.feats.shape[1]:
        raise ValueError(f'evaluate_search: gallery features are {gallery.det_feats.shape[1]}'
                         f'-d, query features {queries.feats.shape[1]}-d')
    feats = (l2_normalise(gallery.det_feats[kept]) if len(kept)
             else np.zeros((0, queries.feats.shape[1]), np.float32))
    img = gallery.det_img_inds[kept]
    offsets = group_offsets(img, gallery.num_images)
    return _KeptDetections(img, gallery.det_boxes[kept], feats, offsets, np.diff(offsets))


def _candidates(dets: _KeptDetections, pos_q: np.ndarray, pos_img: np.ndarray,
                pos_box: np.ndarray, num_queries: int) -> Tuple[np.ndarray, np.ndarray]:
    """Detections in a positive image passing the small-box IoU rule, per query.

    Returns:
        ``(cand_det, cand_offsets)``: unique detection indices sorted by query, and the
        ``(Q + 1,)`` offsets of each query's candidates.
    """
    cand_det, owner = expand_ranges(dets.offsets[pos_img], dets.count[pos_img])
    iou = aligned_box_iou(dets.boxes[cand_det], pos_box[owner])
    width, height = pos_box[:, 2] - pos_box[:, 0], pos_box[:, 3] - pos_box[:, 1]
    passed = iou >= search_iou_threshold(width, height)[owner]
    cand_det, cand_q = cand_det[passed], pos_q[owner[passed]]
    order = np.lexsort((cand_det, cand_q))
    cand_q, cand_det = cand_q[order], cand_det[order]
    unique = np.ones(len(cand_q), dtype=bool)
    unique[1:] = (cand_q[1:] != cand_q[:-1]) | (cand_det[1:] != cand_det[:-1])
    return cand_det[unique], group_offsets(cand_q[unique], num_queries)


def _dense_similarities(active: np.ndarray, view: ProtocolView, dets: _KeptDetections,
                        query_feats: np.ndarray,
                        candidates_of: Callable[[int], np.ndarray]) -> _Similarities:
    """``(q, scores, candidate scores)`` from one matrix product per block of queries.

    ``scores`` covers every kept detection, ``-inf`` outside the query's gallery.
    """
    chunk = max(1, _CHUNK_BYTES // (4 * max(len(dets.img), 1)))
    queries = view.queries
    for start in range(0, len(active), chunk):
        block = active[start:start + chunk]
        sims = query_feats[block] @ dets.feats.T
        for row, q in enumerate(block):
            scores = sims[row]
            if view.gallery_lists is None:
                own = queries.img_inds[q]
                if own >= 0:
                    scores[dets.offsets[own]:dets.offsets[own + 1]] = -np.inf
                if view.exclude_same_camera:
                    scores[view.cams[dets.img] == queries.cam_ids[q]] = -np.inf
            else:
                np.copyto(scores, -np.inf, where=~view.explicit_gallery(q)[dets.img])
            yield q, scores, scores[candidates_of(q)]


def _gathered_similarities(active: np.ndarray, view: ProtocolView, dets: _KeptDetections,
                           query_feats: np.ndarray,
                           candidates_of: Callable[[int], np.ndarray]) -> _Similarities:
    """``(q, scores, candidate scores)`` over the detections of each explicit gallery.

    For galleries much smaller than the whole set: ``scores`` covers only the query's
    gallery detections.
    """
    for q in active:
        gallery_q = np.flatnonzero(view.explicit_gallery(q))
        rows, _ = expand_ranges(dets.offsets[gallery_q], dets.count[gallery_q])
        scores = dets.feats[rows] @ query_feats[q]
        yield q, scores, scores[np.searchsorted(rows, candidates_of(q))]


def evaluate_search(gallery: SearchGallery,
                    queries: SearchQueries,
                    protocol: dict,
                    score_thr: float = SEARCH_SCORE_THR,
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
    query_inds = _selected_queries(query_inds, num_queries)
    bad = np.flatnonzero(queries.img_inds >= gallery.num_images)
    if len(bad):
        raise ValueError(f'evaluate_search: query {bad[0]} has image index '
                         f'{queries.img_inds[bad[0]]} beyond the {gallery.num_images} '
                         'gallery images')

    dets = _kept_detections(gallery, queries, score_thr)
    view = ProtocolView(protocol, gallery, queries, name)
    pos_q, pos_img, pos_box, gathered = find_positives(view, gallery, queries, query_inds,
                                                       dets.count)
    pos_q, pos_img, pos_box, num_pos_images, positive_boxes = group_positives(
        pos_q, pos_img, pos_box, num_queries)
    cand_det, cand_offsets = _candidates(dets, pos_q, pos_img, pos_box, num_queries)

    def candidates_of(q: int) -> np.ndarray:
        return cand_det[cand_offsets[q]:cand_offsets[q + 1]]

    active = query_inds[num_pos_images[query_inds] > 0]
    dense = (view.gallery_lists is None
             or gathered * _GATHER_RATIO > len(query_inds) * len(dets.img))
    similarities = _dense_similarities if dense else _gathered_similarities
    ap = np.full(num_queries, np.nan)
    first_hit_rank = np.full(num_queries, np.nan)
    num_hits = np.zeros(num_queries, dtype=np.int64)
    evaluated = np.zeros(num_queries, dtype=bool)
    query_feats = l2_normalise(queries.feats)
    for q, scores, cand_scores in similarities(active, view, dets, query_feats, candidates_of):
        ap[q], first_hit_rank[q], num_hits[q] = _rank_one_query(
            scores, cand_scores, dets.img[candidates_of(q)], int(num_pos_images[q]))
        evaluated[q] = True

    return SearchResult(topk=topk, ap=ap, first_hit_rank=first_hit_rank,
                        num_positive_images=num_pos_images, num_hits=num_hits,
                        evaluated=evaluated, num_skipped=len(query_inds) - len(active),
                        positive_boxes=positive_boxes)
