"""Cluster centroids of a memory bank, for the cluster contrastive loss.

Plain torch; no mmdet import.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def singleton_outlier_labels(labels: Tensor) -> Tensor:
    """Give every outlier (label -1) a cluster of its own.

    Clusters ``0..C-1`` keep their labels; the outliers become ``C, C + 1, ...`` in
    row order, where ``C = labels.max() + 1`` (0 when every row is an outlier). Their
    centroid (:func:`cluster_centroids`) is then their own memory row, as in CGPS.

    Args:
        labels: ``(N,)`` integer cluster labels, -1 = outlier.

    Returns:
        ``(N,)`` int64 labels, all ``>= 0``.
    """
    labels = labels.long()
    outliers = labels < 0
    if not bool(outliers.any()):
        return labels.clone()
    first_new = int(labels.max()) + 1 if bool((~outliers).any()) else 0
    relabelled = labels.clone()
    relabelled[outliers] = first_new + torch.arange(
        int(outliers.sum()), device=labels.device)
    return relabelled


def cluster_centroids(memory: Tensor, labels: Tensor,
                      num_clusters: Optional[int] = None,
                      normalize: bool = False) -> Tensor:
    """Mean of the (normalised) memory rows of every cluster.

    ``C[k] = mean_{labels[i] == k} normalize(memory[i])``, computed with one
    ``index_add`` (no Python loop). As in CGPS, the mean is not re-normalised:
    CGPS's cluster logit is the mean of the member logits ``f . M[i] / tau``
    (``HybridMemoryMultiFocalPercent.forward`` in ljpadam/CGPS
    ``mmdet/models/utils/hybrid_memory_loss.py``, lines 285-290), i.e. ``f . C[k]``
    with the plain mean, so a spread-out cluster (short mean) gets smaller logits
    than a tight one. A singleton's centroid is its own unit row.

    Args:
        memory: ``(N, d)`` memory bank (``M``, or ``M_I``/``M_M``).
        labels: ``(N,)`` cluster labels in ``[0, C)``; map outliers first with
            :func:`singleton_outlier_labels`.
        num_clusters: ``C``; default ``labels.max() + 1``.
        normalize: scale every centroid to unit length (mmssl's earlier rule).

    Returns:
        ``(C, d)`` centroids, of length at most 1.

    Raises:
        ValueError: a negative label, a label ``>= num_clusters``, or a cluster
            with no member (its centroid would be undefined).
    """
    if memory.dim() != 2 or labels.dim() != 1 or labels.numel() != memory.shape[0]:
        raise ValueError(f'cluster_centroids: memory {tuple(memory.shape)} and labels '
                         f'{tuple(labels.shape)} must be (N, d) and (N,)')
    labels = labels.to(device=memory.device, dtype=torch.long)
    if labels.numel() and int(labels.min()) < 0:
        row = int(torch.nonzero(labels < 0)[0])
        raise ValueError(f'cluster_centroids: row {row} has label {int(labels[row])}; '
                         'map outliers with singleton_outlier_labels first')
    if num_clusters is None:
        num_clusters = int(labels.max()) + 1 if labels.numel() else 0
    if labels.numel() and int(labels.max()) >= num_clusters:
        raise ValueError(f'cluster_centroids: label {int(labels.max())} >= '
                         f'num_clusters={num_clusters}')
    counts = torch.bincount(labels, minlength=num_clusters)
    if bool((counts == 0).any()):
        empty = torch.nonzero(counts == 0).flatten()[:5].tolist()
        raise ValueError(f'cluster_centroids: clusters {empty} (of {num_clusters}) '
                         'have no member; labels must be contiguous 0..C-1')
    sums = memory.new_zeros(num_clusters, memory.shape[1]).index_add(
        0, labels, F.normalize(memory, dim=1))
    if normalize:  # normalising the sum equals normalising the mean
        return F.normalize(sums, dim=1)
    return sums / counts.to(sums.dtype)[:, None]
