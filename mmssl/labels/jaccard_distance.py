"""k-reciprocal Jaccard distance (Zhong et al., CVPR 2017) computed sparsely.

The same math as SpCL's ``compute_jaccard_distance`` (``k1=30, k2=6`` here), without
any ``N x N`` array:

1. ``R`` = the exact top-``k1`` neighbours of every row (self included), in canonical
   order (:func:`~mmssl.labels.neighbour_search.knn_search`).
2. k-reciprocal sets: ``j`` is in ``R*(i)`` iff ``j`` is in ``i``'s first ``c`` places
   and ``i`` in ``j``'s first ``c``, with ``c = k1 + 1`` capped at the ``k1`` columns
   searched (SpCL slices ``[:k1 + 1]`` of a ``k1``-column search, so ``c = k1``), and
   ``c = round(k1 / 2) + 1`` for the half sets ``R*_half``.
3. Expansion: ``E(i) = R*(i)`` united with every ``R*_half(c)``, ``c`` in ``R*(i)``,
   that shares more than 2/3 of its members with ``R*(i)``.
4. ``V_ik = softmax_k(-(2 - 2 s_ik))`` over ``k`` in ``E(i)`` (a row sums to 1).
5. Query expansion (``k2 != 1``): row ``i`` of ``V`` becomes the mean of the rows of
   its first ``k2`` neighbours.
6. ``d_ij = 1 - m_ij / (2 - m_ij)``, ``m_ij = sum_k min(V_ik, V_jk)``, clipped at 0.

Sparsity: ``m_ij > 0`` only when rows ``i`` and ``j`` of ``V`` share a column, and
every other pair has ``d_ij = 1`` exactly. So the CSR result holds every pair with
``d < cutoff`` and nothing is lost: DBSCAN with ``eps < cutoff`` sees the same
neighbourhoods as with the dense matrix. ``d < cutoff`` means ``m_ij`` above a bound
(:func:`overlap_for_distance`), and :mod:`.weight_overlaps` finds exactly the pairs
of rows of ``V`` whose overlap is above it.

Values are float64 throughout (SpCL uses float32) so that this path and
:func:`mmssl.labels.dense_reference.dense_jaccard_distance` agree to ~1e-15.
"""
from typing import Optional, Tuple

import numpy as np
import scipy.sparse as sp

from .chunk_threads import chunk_workers, map_chunks, row_chunks
from .neighbour_search import NeighbourSearch, SearchOrFeatures, as_search
from .sparse_product import csr_product, product_row_bounds
from .weight_overlaps import min_overlaps, neighbour_pair_overlaps

#: Bound on the product entries of one chunk of rows of the expansion step.
SHARED_CHUNK = 1 << 18

#: Set members per chunk of rows whose similarities are looked up together.
SIMILARITY_CHUNK = 1 << 15


def overlap_for_distance(cutoff: float) -> float:
    """Smallest overlap ``m`` with ``1 - m / (2 - m) < cutoff`` is above this value.

    ``d = 1 - m / (2 - m)`` decreases in ``m``; ``d < c  <=>  m > 2 (1 - c) / (2 - c)``.
    """
    return 2.0 * (1.0 - cutoff) / (2.0 - cutoff)


def _neighbour_pattern(ranks: np.ndarray, columns: int) -> sp.csr_matrix:
    """0/1 CSR: ``(i, j)`` set when ``j`` is in the first ``columns`` of row ``i``."""
    num = ranks.shape[0]
    cols = ranks[:, :columns]
    valid = cols >= 0
    rows = np.repeat(np.arange(num), valid.sum(axis=1))
    pattern = sp.csr_matrix((np.ones(len(rows), dtype=np.float64),
                             (rows, cols[valid])), shape=(num, num))
    pattern.data[:] = 1.0
    return pattern


def reciprocal_sets(ranks: np.ndarray, columns: int) -> sp.csr_matrix:
    """k-reciprocal neighbour sets as a 0/1 CSR (row ``i`` = ``R*(i)``).

    Args:
        ranks: ``(N, k)`` neighbour indices in canonical order (``-1`` = missing).
        columns: how many leading places count as "near".

    Returns:
        ``(N, N)`` float64 CSR with ones where ``j`` is in the first ``columns`` of
        ``i`` and ``i`` in the first ``columns`` of ``j``.
    """
    near = _neighbour_pattern(ranks, columns)
    mutual = near.multiply(near.T).tocsr()
    mutual.sort_indices()
    return mutual


def expanded_sets(ranks: np.ndarray, k1: int) -> sp.csr_matrix:
    """Expanded k-reciprocal sets ``E(i)`` of SpCL (steps 2-3 of the module doc).

    Args:
        ranks: ``(N, >= min(k1, N))`` neighbour indices in canonical order.
        k1: ``k1``.

    Returns:
        ``(N, N)`` 0/1 float64 CSR with sorted indices, row ``i`` = ``E(i)``.
    """
    available = ranks.shape[1]
    full = reciprocal_sets(ranks, min(k1 + 1, available))
    half = reciprocal_sets(ranks, min(int(np.around(k1 / 2)) + 1, available))
    # |R*(i) ∩ R*_half(c)| for c in R*(i): products of the symmetric 0/1 sets, read
    # at the pattern of R* (a pair sharing nobody is absent, and never accepted),
    # in chunks of rows on the threads
    def shared_of(chunk):
        rows = full[chunk[0]:chunk[1]]
        return csr_product(rows, half, workers=1).multiply(rows).tocsr()

    shared = sp.vstack(map_chunks(shared_of, row_chunks(
        product_row_bounds(full, half), SHARED_CHUNK, chunk_workers())),
        format='csr').tocoo()
    accept = shared.data > 2.0 / 3.0 * np.diff(half.indptr)[shared.col]
    accepted = sp.csr_matrix((np.ones(int(accept.sum())),
                              (shared.row[accept], shared.col[accept])),
                             shape=full.shape)
    expanded = (full + csr_product(accepted, half)).tocsr()
    expanded.data[:] = 1.0
    expanded.sort_indices()
    return expanded


def _similarities(search: NeighbourSearch, rows: np.ndarray, cols: np.ndarray,
                  knn: Optional[Tuple[np.ndarray, np.ndarray]],
                  first_row: int = 0) -> np.ndarray:
    """Canonical ``s_ij`` of the pairs, read off the kNN lists where they hold the
    pair (most set members are kNN neighbours), computed for the others.

    ``knn`` holds the lists of rows ``first_row, first_row + 1, ...``."""
    if knn is None or not (np.asarray(knn[1]) >= 0).any():
        return search.similarities(rows, cols)
    num = search.features.shape[0]
    by_index = np.argsort(knn[1], axis=1)  # indices are distinct within a row
    listed = np.take_along_axis(knn[1], by_index, axis=1)
    valid = listed >= 0
    keys = ((first_row + np.arange(len(listed)))[:, None] * num
            + listed)[valid]  # ascending
    values = np.take_along_axis(knn[0], by_index, axis=1)[valid]
    wanted = rows * num + cols
    place = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found = keys[place] == wanted
    sims = np.empty(len(rows), dtype=np.float32)
    sims[found] = values[place[found]]
    sims[~found] = search.similarities(rows[~found], cols[~found])
    return sims


def softmax_weights(search: NeighbourSearch, sets: sp.csr_matrix,
                    knn: Optional[Tuple[np.ndarray, np.ndarray]] = None
                    ) -> sp.csr_matrix:
    """``V_ik = softmax_k(-(2 - 2 s_ik))`` over ``k`` in each row's set (step 4).

    The softmax subtracts the row's smallest distance first (for stability); the
    dense reference computes it the same way.

    Args:
        search: the rows' :class:`~mmssl.labels.neighbour_search.NeighbourSearch`.
        sets: ``(N, N)`` CSR whose pattern gives each row's set (sorted indices).
        knn: optional canonical ``(similarities, indices)`` of the rows, to read
            the similarities they hold from.

    Returns:
        ``(N, N)`` float64 CSR of the weights, same pattern.
    """
    sizes = np.diff(sets.indptr)
    rows = np.repeat(np.arange(sets.shape[0]), sizes)
    cols = sets.indices.astype(np.int64)

    def similarities_of(chunk: Tuple[int, int]) -> np.ndarray:
        lo, hi = chunk
        start, stop = sets.indptr[lo], sets.indptr[hi]
        return _similarities(
            search, rows[start:stop], cols[start:stop],
            None if knn is None else (knn[0][lo:hi], knn[1][lo:hi]), lo)

    sims = np.concatenate([np.zeros(0, dtype=np.float32)] + map_chunks(
        similarities_of, row_chunks(sizes, SIMILARITY_CHUNK, chunk_workers())))
    dist = 2.0 - 2.0 * sims.astype(np.float64)
    nonempty = sizes > 0
    starts = sets.indptr[:-1][nonempty]
    row_min = np.zeros(sets.shape[0])
    row_min[nonempty] = np.minimum.reduceat(dist, starts)
    weights = np.exp(-(dist - row_min[rows]))
    row_sum = np.ones(sets.shape[0])
    row_sum[nonempty] = np.add.reduceat(weights, starts)
    return sp.csr_matrix((weights / row_sum[rows], sets.indices.copy(),
                          sets.indptr.copy()), shape=sets.shape)


def query_expansion(weights: sp.csr_matrix, ranks: np.ndarray,
                    k2: int) -> sp.csr_matrix:
    """Row ``i`` becomes the mean of the rows of its first ``k2`` neighbours (step 5).

    ``k2 == 1`` leaves the weights unchanged, as in SpCL.
    """
    if k2 == 1:
        return weights
    take = _neighbour_pattern(ranks, min(k2, ranks.shape[1]))
    counts = np.maximum(np.diff(take.indptr), 1).astype(np.float64)
    expanded = csr_product(take, weights, sort_indices=True)
    expanded.data /= np.repeat(counts, np.diff(expanded.indptr))  # a mean, as SpCL
    return expanded


def jaccard_from_overlap(overlap: np.ndarray) -> np.ndarray:
    """``d = 1 - m / (2 - m)`` clipped at 0 (step 6)."""
    distance = 1.0 - overlap / (2.0 - overlap)
    return np.maximum(distance, 0.0)


def k_reciprocal_jaccard_distance(features: SearchOrFeatures,
                                  k1: int = 30,
                                  k2: int = 6,
                                  *,
                                  knn: Optional[Tuple[np.ndarray,
                                                      np.ndarray]] = None,
                                  cutoff: float = 1.0,
                                  pairs: str = 'all',
                                  backend: str = 'auto',
                                  index=None) -> sp.csr_matrix:
    """Sparse k-reciprocal Jaccard distance, exactly SpCL's values.

    Args:
        features: ``(N, d)`` L2-normalised float32 rows, or a
            :class:`~mmssl.labels.neighbour_search.NeighbourSearch` over them.
        k1: neighbours of the reciprocal sets.
        k2: neighbours of the query expansion.
        knn: optional ``(similarities, indices)`` from
            :func:`~mmssl.labels.neighbour_search.knn_search` with at least
            ``min(k1, N)`` columns; computed when None.
        cutoff: keep pairs with distance ``< cutoff`` (``<= 1``). 1 keeps every pair
            with a distance below 1; DBSCAN needs only ``cutoff > eps``.
        pairs: ``'all'`` (every pair, exact) or ``'knn'`` (only pairs that are kNN
            neighbours either way, :func:`neighbour_pair_overlaps`; meant for
            approximate neighbours at very large N).
        backend: ``'auto'`` or ``'torch'``.
        index: optional approximate faiss index (when ``knn`` is None).

    Returns:
        ``(N, N)`` symmetric float64 CSR, sorted indices. Stored entries are the
        pairs with distance ``< cutoff`` plus the whole diagonal (distance 0, stored
        explicitly, so that scikit-learn's precomputed sparse neighbours count each
        point as its own neighbour); a stored 0 means distance 0, an absent entry
        means "farther than ``cutoff``".
    """
    search = as_search(features, backend, index)
    num = search.features.shape[0]
    if k1 < 1 or k2 < 1:
        raise ValueError(f'k1 and k2 must be >= 1, got k1={k1}, k2={k2}')
    if not 0.0 < cutoff <= 1.0:
        raise ValueError(f'cutoff must be in (0, 1], got {cutoff}')
    if pairs not in ('all', 'knn'):
        raise ValueError(f"pairs must be 'all' or 'knn', got {pairs!r}")
    if knn is None:
        knn = search.knn(k1)
    ranks = np.asarray(knn[1], dtype=np.int64)
    if ranks.shape[0] != num or ranks.shape[1] < min(k1, num):
        raise ValueError(f'knn indices of shape {ranks.shape} do not cover {num} '
                         f'rows x min(k1={k1}, N) columns')
    ranks = ranks[:, :min(k1, num)]

    weights = softmax_weights(search, expanded_sets(ranks, k1),
                              (np.asarray(knn[0]), np.asarray(knn[1], np.int64)))
    weights = query_expansion(weights, ranks, k2)
    if pairs == 'all':
        rows, cols, overlap = min_overlaps(weights, overlap_for_distance(cutoff))
    else:
        rows, cols, overlap = neighbour_pair_overlaps(
            weights, ranks, overlap_for_distance(cutoff))
    distance = jaccard_from_overlap(overlap)
    keep = distance < cutoff
    rows, cols, distance = rows[keep], cols[keep], distance[keep]
    # m_ii = sum_k V_ik = 1, so d_ii = 0 (stored exactly, not as rounding noise)
    diagonal = np.zeros(num)

    all_rows = np.concatenate([rows, cols, np.arange(num)])
    all_cols = np.concatenate([cols, rows, np.arange(num)])
    all_dist = np.concatenate([distance, distance, diagonal])
    order = np.lexsort((all_cols, all_rows))
    indptr = np.zeros(num + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_rows, minlength=num), out=indptr[1:])
    return sp.csr_matrix((all_dist[order], all_cols[order], indptr),
                         shape=(num, num))
