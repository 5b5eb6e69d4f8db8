"""Rank gallery detections by their similarity to a query (plain numpy, no mmdet).

The community protocol (``docs/evaluation.md`` section 1): detections scoring below
the score threshold are dropped and the similarity is the dot product of the
L2-normalised query and detection features.
"""
from typing import Optional, Tuple

import numpy as np

from mmssl.evaluation.functional import l2_normalise
from mmssl.evaluation.metrics.confidence_weighting import (
    confidence_weighted_features, pad_query_features)


def rank_by_similarity(query_feat: np.ndarray,
                       gallery_feats: np.ndarray,
                       gallery_scores: np.ndarray,
                       score_thr: float = 0.5,
                       topk: Optional[int] = None,
                       confidence_weighted: bool = False
                       ) -> Tuple[np.ndarray, np.ndarray]:
    """Order the detections scoring at least ``score_thr`` by cosine similarity.

    Args:
        query_feat: ``(d,)`` query feature.
        gallery_feats: ``(n, d)`` detection features.
        gallery_scores: ``(n,)`` detection scores.
        score_thr: detections with a lower score are left out.
        topk: keep the ``topk`` most similar; None keeps all.
        confidence_weighted: rank by SeqNet's confidence-weighted similarity, the
            cosine times the detection score
            (:mod:`mmssl.evaluation.metrics.confidence_weighting`).

    Returns:
        ``(indices, similarities)``: ``(k,)`` int64 positions into the gallery
        arrays, most similar first (ties keep gallery order), and their ``(k,)``
        float32 similarities.

    Raises:
        ValueError: the shapes disagree or ``topk`` is negative.
    """
    query = np.asarray(query_feat, dtype=np.float32).reshape(-1)
    feats = np.asarray(gallery_feats, dtype=np.float32)
    scores = np.asarray(gallery_scores, dtype=np.float32).reshape(-1)
    if feats.size == 0:
        feats = feats.reshape(0, query.size)
    if feats.ndim != 2 or feats.shape[1] != query.size:
        raise ValueError(f'rank_by_similarity: gallery features of shape '
                         f'{feats.shape} do not match a {query.size}-d query')
    if len(scores) != len(feats):
        raise ValueError(f'rank_by_similarity: {len(scores)} scores for '
                         f'{len(feats)} features')
    if topk is not None and topk < 0:
        raise ValueError(f'rank_by_similarity: topk must be >= 0, got {topk}')
    kept = np.flatnonzero(scores >= score_thr)
    gallery, queries = l2_normalise(feats[kept]), l2_normalise(query[None])
    if confidence_weighted:
        gallery = confidence_weighted_features(gallery, scores[kept])
        queries = pad_query_features(queries)
    similarities = gallery @ queries[0]
    order = np.argsort(-similarities, kind='stable')
    if topk is not None:
        order = order[:topk]
    return kept[order].astype(np.int64), similarities[order].astype(np.float32)
