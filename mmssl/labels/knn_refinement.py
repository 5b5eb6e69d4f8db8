"""Refine an approximate kNN graph by its neighbours' neighbours (NN-descent's join).

At a million rows an HNSW search misses many true neighbours of rows whose features
are spread in many directions (measured on the synthetic bank of
:mod:`.synthetic_features`, HNSW ``M=32``: it finds 0.58 of the pairs with similarity
>= 0.45 and 0.69 of those >= 0.7). The misses are not independent of
the hits: a person's boxes form a small, tight group, and a row that found one box of
its person usually finds the others among that box's neighbours. One local join of
NN-descent (Dong et al., WWW 2011) uses exactly that: every row re-scores the
neighbours of its ``width`` best forward and reverse neighbours, exactly, and keeps
the best ``k``. Memory is ``O(N k)``; the cost is ``N (2 width)^2 d`` multiply-adds.
Measured at a million rows (docs/benchmarks.md): the multi-label positives found rose
from 0.51 to 0.77 for about 240 s.
"""
from typing import Tuple

import numpy as np

from .neighbour_search import SearchOrFeatures, as_search


def reverse_neighbours(similarities: np.ndarray, indices: np.ndarray,
                       width: int) -> np.ndarray:
    """The ``width`` most similar rows that list each row as a neighbour.

    Args:
        similarities: ``(N, k)`` similarities of ``indices``.
        indices: ``(N, k)`` neighbour indices (``-1`` = missing).
        width: reverse neighbours kept per row.

    Returns:
        ``(N, width)`` int64 indices, ``-1`` where a row has fewer.
    """
    num = indices.shape[0]
    rows = np.repeat(np.arange(num), indices.shape[1])
    cols = indices.ravel()
    sims = similarities.ravel()
    valid = (cols >= 0) & (cols != rows)
    rows, cols, sims = rows[valid], cols[valid], sims[valid]
    order = np.lexsort((-sims, cols))  # by target row, most similar first
    rows, cols = rows[order], cols[order]
    starts = np.searchsorted(cols, np.arange(num))
    rank = np.arange(len(cols)) - starts[cols]
    keep = rank < width
    out = np.full((num, width), -1, dtype=np.int64)
    out[cols[keep], rank[keep]] = rows[keep]
    return out


def refine_knn(features: SearchOrFeatures,
               knn: Tuple[np.ndarray, np.ndarray],
               *,
               width: int = 8,
               chunk_size: int = 4096) -> Tuple[np.ndarray, np.ndarray]:
    """One neighbours-of-neighbours join over an approximate kNN result.

    Candidates of row ``i``: its current ``k`` neighbours and every neighbour (first
    ``width`` places, forward or reverse) of its first ``width`` forward and reverse
    neighbours. They are re-scored exactly and the best ``k`` kept in canonical order
    (descending similarity, ties by ascending index), so the result never loses a
    neighbour the input had.

    Args:
        features: ``(N, d)`` L2-normalised float32 rows (the kNN's queries and
            database), or a :class:`~mmssl.labels.neighbour_search.NeighbourSearch`
            over them.
        knn: ``(similarities, indices)``, each ``(N, k)``, e.g. from
            :func:`~mmssl.labels.neighbour_search.knn_search` with an approximate
            index; index ``-1`` marks a missing place.
        width: neighbours per side taken into the join.
        chunk_size: rows re-scored at a time (bounds memory at
            ``chunk_size * (k + (2 width)^2) * d`` floats).

    Returns:
        ``(similarities, indices)`` like ``knn``.
    """
    search = as_search(features)
    similarities, indices = (np.asarray(a) for a in knn)
    num = search.features.shape[0]
    if indices.shape != similarities.shape or indices.shape[0] != num:
        raise ValueError(f'knn arrays of shapes {similarities.shape} and '
                         f'{indices.shape} do not match {num} rows')
    if width < 1:
        raise ValueError(f'width must be >= 1, got {width}')
    k = indices.shape[1]
    forward = indices[:, :width].copy()
    forward[forward == np.arange(num)[:, None]] = -1  # a row is not its own hop
    links = np.concatenate(
        [forward, reverse_neighbours(similarities, indices, width)], axis=1)
    out_sims = np.empty_like(similarities, dtype=np.float32)
    out_ids = np.empty_like(indices, dtype=np.int64)
    for lo in range(0, num, chunk_size):
        rows = np.arange(lo, min(lo + chunk_size, num))
        hops = links[rows]
        second = np.where(hops[:, :, None] >= 0, links[np.maximum(hops, 0)], -1)
        # the forward hops are already among the row's own neighbours
        candidates = np.concatenate(
            [indices[rows], hops[:, width:], second.reshape(len(rows), -1)], axis=1)
        candidates = np.sort(candidates, axis=1)
        repeated = np.zeros_like(candidates, dtype=bool)
        repeated[:, 1:] = candidates[:, 1:] == candidates[:, :-1]
        candidates[repeated] = -1
        out_sims[rows], out_ids[rows] = search.best_of(rows, candidates, k)
    return out_sims, out_ids
