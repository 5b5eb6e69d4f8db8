"""SeqNet's confidence-weighted similarity (CWS) as plain unit vectors.

SeqNet multiplies the embedding of every gallery detection by its detection score
before the search (serend1p1ty/SeqNet ``models/seqnet.py`` lines 323-325), so a query
ranks a detection by ``score * cos(query, detection)``. The evaluation here ranks by
the dot product of re-normalised features (:func:`mmssl.evaluation.functional.
l2_normalise`), which would undo a plain multiplication; so the weighting is written
with one extra dimension instead. A detection ``f`` with score ``s`` in ``[0, 1]``
becomes the unit vector ``[s * f / |f|, sqrt(1 - s^2)]`` and a query ``q`` becomes
``[q, 0]``: their cosine is exactly ``s * cos(q, f)``, and every later
normalisation leaves both unchanged.

Plain numpy; no mmdet import.
"""
import numpy as np


def confidence_weighted_features(feats: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``(n, d)`` detection features and ``(n,)`` scores -> ``(n, d + 1)`` unit rows.

    Args:
        feats: detection features (any length; normalised here, zero rows stay
            zero in their first ``d`` entries).
        scores: detection scores in ``[0, 1]``.

    Returns:
        float32 rows ``[s * f / |f|, sqrt(1 - s^2)]``; their cosine with
        :func:`pad_query_features` of a query is ``s`` times the cosine of the
        original features.

    Raises:
        ValueError: shapes that disagree, or a score outside ``[0, 1]``.
    """
    feats = np.asarray(feats, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if feats.ndim != 2 or len(feats) != len(scores):
        raise ValueError(f'confidence_weighted_features: {feats.shape} features for '
                         f'{len(scores)} scores')
    if len(scores) and (scores.min() < 0 or scores.max() > 1):
        bad = int(np.flatnonzero((scores < 0) | (scores > 1))[0])
        raise ValueError(f'confidence_weighted_features: score {scores[bad]} of '
                         f'detection {bad} is outside [0, 1]')
    norms = np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    weighted = feats / norms * scores[:, None].astype(np.float32)
    rest = np.sqrt(np.clip(1.0 - scores ** 2, 0.0, 1.0)).astype(np.float32)
    return np.concatenate([weighted, rest[:, None]], axis=1)


def pad_query_features(feats: np.ndarray) -> np.ndarray:
    """``(m, d)`` query features -> ``(m, d + 1)`` with a zero last column."""
    feats = np.asarray(feats, dtype=np.float32)
    if feats.ndim != 2:
        raise ValueError(f'pad_query_features: expected (m, d), got {feats.shape}')
    return np.concatenate([feats, np.zeros((len(feats), 1), np.float32)], axis=1)
