"""Recognising a degenerate clustering, and keeping it out of training.

Early in training, or from features that do not separate persons, DBSCAN on the
Jaccard distance can join most boxes into one cluster (seen on SynthPS from random
init: one cluster holding 98% of the boxes). Such a labelling is no pseudo identity:
trained on, it pulls every feature together, and its self-paced independence
threshold, were it kept (SpCL keeps the first epoch's), would turn every later,
healthier cluster into singletons. A clustering is *degenerate* when its largest
cluster holds more than ``max_share`` of all samples; no real person-search training
set comes near (PRW's most seen identity holds about 1% of its boxes).

Plain numpy; no mmdet import.
"""
from typing import Tuple

import numpy as np

from .self_paced_dbscan import canonical_labels


def largest_cluster(labels: np.ndarray) -> Tuple[int, float]:
    """Size of the largest cluster and its share of all samples.

    Args:
        labels: ``(N,)`` non-negative cluster labels (singletons have labels of
            their own).

    Returns:
        ``(size, share)``; ``(0, 0.0)`` for no samples.
    """
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        return 0, 0.0
    size = int(np.bincount(labels).max())
    return size, size / labels.size


def is_degenerate(labels: np.ndarray, max_share: float) -> bool:
    """Whether the largest cluster holds more than ``max_share`` of the samples."""
    return largest_cluster(labels)[1] > max_share


def dissolve_large_clusters(labels: np.ndarray, max_share: float) -> np.ndarray:
    """Turn every member of a cluster larger than ``max_share`` of all samples into
    a singleton; other clusters keep their members.

    Returns:
        ``(N,)`` int64 labels, renumbered ``0..C-1`` in order of first appearance.
    """
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if not 0.0 < max_share <= 1.0:
        raise ValueError(f'max_share must lie in (0, 1], got {max_share}')
    if labels.size == 0:
        return labels.copy()
    counts = np.bincount(labels)
    too_large = counts[labels] > max_share * labels.size
    out = labels.copy()
    out[too_large] = counts.size + np.arange(int(too_large.sum()))
    return canonical_labels(out)
