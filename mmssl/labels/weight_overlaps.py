"""Pairs of rows of a sparse non-negative matrix whose min-overlap is above a bound.

For rows ``V_i`` (each summing to 1 here: the k-reciprocal weights of
:mod:`.jaccard_distance`), find every pair ``i < j`` with
``m_ij = sum_k min(V_ik, V_jk) > min_overlap``, and its exact ``m_ij``, without an
``N x N`` array:

* bound: split every row into a head and a tail of its lightest entries
  (:func:`split_rows`); one sparse product of the square-rooted heads bounds
  ``m_ij`` from above (:func:`min_overlaps`), and pairs sharing no head column are
  ruled out by the tails' masses alone;
* verify: the pairs whose bound passes are evaluated exactly
  (:func:`pair_overlaps`).

Both run in chunks of rows, on torch's intra-op threads
(:func:`~mmssl.labels.chunk_threads.map_chunks`).

Renumbering the rows first in reverse Cuthill-McKee order (so that rows sharing
columns get nearby numbers) was measured and dropped: no gain at 55,272 rows, and 10%
slower overall for the kNN pairs of 200,000 rows (the rows' columns are too spread
for a band).
"""
import collections
import threading
from typing import Tuple

import numpy as np
import scipy.sparse as sp

from .chunk_threads import chunk_workers, map_chunks, row_chunks
from .sparse_product import csr_product

#: A group of rows shares one column slice of the heads (:func:`min_overlaps`),
#: which costs ``O(nnz)`` of the heads: the group's product work (multiply-adds,
#: pairs ``j > i``, estimated) is at least this many times that cost. Smaller
#: groups compute fewer pairs ``j < i`` for nothing (measured: 2 and 8 within the
#: noise at 18,048 rows, 2 5-10% faster at 5,000).
SLICE_RATIO = 2

#: Multiply-adds per chunk of the product: bounds each thread's memory (the
#: product's entries), small enough that the allocator reuses it.
PRODUCT_CHUNK = 1 << 20

#: Entries of partner rows gathered per chunk while pairs are evaluated exactly.
PAIR_BUDGET = 1 << 20

#: Values of the dense buffer that holds a block of rows of ``V`` while pairs are
#: evaluated (128 Ki float64 = 1 MiB, a core's L2 cache), but at least
#: :data:`OVERLAP_BLOCK_ROWS` rows (at large N a block of fewer rows leaves too few
#: pairs per block for numpy's calls).
OVERLAP_BUFFER = 1 << 17
OVERLAP_BLOCK_ROWS = 16

#: Values of the padded block that ranks rows' entries (:func:`split_rows`).
SORT_ELEMENTS = 1 << 18

#: Tail mass allowed per row, as a fraction of the overlap a pair must exceed
#: (:func:`min_overlaps`); below 1/2, so that pairs sharing no head column are
#: ruled out. Larger tails make shorter heads (a cheaper product) but a looser
#: bound (more pairs to evaluate exactly); 0.35 was fastest on both synthetic
#: banks of ``benchmarks/bench_pseudo_labels.py`` (0.3-0.45 tried).
TAIL_FRACTION = 0.35


def _gather_rows(matrix: sp.csr_matrix,
                 rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of ``matrix[rows]`` as flat arrays: (lengths (int64), columns,
    values), gathered by scipy's row indexing (one C++ pass; 3x faster than the
    same gather built from numpy index arrays)."""
    picked = matrix[rows]
    return np.diff(picked.indptr).astype(np.int64), picked.indices, picked.data


def pair_overlaps(weights: sp.csr_matrix, rows: np.ndarray,
                  cols: np.ndarray) -> np.ndarray:
    """Exact ``m_ij = sum_k min(V_ik, V_jk)`` for given pairs.

    Rows ``i`` are scattered, a block at a time (:data:`OVERLAP_BUFFER` values),
    into a dense buffer; each pair then gathers row ``i``'s values at row ``j``'s
    columns (:data:`PAIR_BUDGET` of them at a time). The sum runs over ``j``'s
    columns in ascending order.

    Args:
        weights: ``(N, M)`` CSR ``V``.
        rows: ``(P,)`` int64 rows ``i``, sorted ascending.
        cols: ``(P,)`` int64 rows ``j``.

    Returns:
        ``(P,)`` float64 overlaps.
    """
    lengths = np.diff(weights.indptr)[cols].astype(np.float64)
    chunks = row_chunks(lengths, PAIR_BUDGET, chunk_workers())
    buffers = threading.local()  # one zeroed buffer per thread, reused by its chunks
    return np.concatenate([np.zeros(0)] + map_chunks(
        lambda chunk: _overlaps_of_chunk(weights, rows[chunk[0]:chunk[1]],
                                         cols[chunk[0]:chunk[1]], buffers), chunks))


def _overlaps_of_chunk(weights: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray,
                       buffers: threading.local) -> np.ndarray:
    """:func:`pair_overlaps` for one chunk of pairs; ``buffers.values`` is this
    thread's zeroed buffer (made here on first use), left zeroed, and
    ``buffers.smaller`` its scratch for the pairs' minima."""
    num = weights.shape[1]
    lengths, partner_cols, partner_values = _gather_rows(weights, cols)
    if getattr(buffers, 'smaller', np.empty(0)).size < len(partner_values):
        buffers.smaller = np.empty(len(partner_values))  # reused by later chunks
    smaller = buffers.smaller[:len(partner_values)]
    ends = np.cumsum(lengths)
    block = max(OVERLAP_BLOCK_ROWS, OVERLAP_BUFFER // num)
    block_of = rows // block
    bounds = np.flatnonzero(np.r_[True, block_of[1:] != block_of[:-1], True])
    # offsets into the block's buffer in the columns' int32 where they fit
    index = (np.int32 if partner_cols.dtype == np.int32
             and block * num < np.iinfo(np.int32).max else np.int64)
    if getattr(buffers, 'values', None) is None:
        buffers.values = np.zeros(block * num)
    buffer = buffers.values
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        first_row = int(block_of[lo]) * block
        last_row = min(first_row + block, weights.shape[0])
        start, stop = weights.indptr[first_row], weights.indptr[last_row]
        slots = (np.repeat(np.arange(last_row - first_row) * num,
                           np.diff(weights.indptr[first_row:last_row + 1]))
                 + weights.indices[start:stop])
        buffer[slots] = weights.data[start:stop]
        begin, end = ends[lo] - lengths[lo], ends[hi - 1]
        gather = np.repeat(((rows[lo:hi] - first_row) * num).astype(index),
                           lengths[lo:hi]) + partner_cols[begin:end]
        np.minimum(buffer[gather], partner_values[begin:end],
                   out=smaller[begin:end])
        buffer[slots] = 0.0
    overlaps = np.zeros(len(rows))
    if smaller.size:  # reduceat over the non-empty segments only
        filled = lengths > 0
        overlaps[filled] = np.add.reduceat(smaller, (ends - lengths)[filled])
    return overlaps


def _tail_entries(weights: sp.csr_matrix, tail: float) -> np.ndarray:
    """Which entries of ``weights`` are in their row's tail: the lightest ones (ties
    in no particular order) whose running sum, lightest first, stays ``<= tail``.

    Rows are ranked in padded blocks (:data:`SORT_ELEMENTS`) on the threads.

    Returns:
        ``(nnz,)`` bool, aligned with ``weights.data``.
    """
    sizes = np.diff(weights.indptr)
    in_tail = np.empty(weights.nnz, dtype=bool)
    width = max(1, int(sizes.max(initial=1)))
    step = max(1, SORT_ELEMENTS // width)

    def rank_rows(lo: int) -> None:
        hi = min(lo + step, weights.shape[0])
        start, stop = weights.indptr[lo], weights.indptr[hi]
        counts = sizes[lo:hi]
        rows = np.repeat(np.arange(hi - lo), counts)
        place = np.arange(stop - start) - np.repeat(weights.indptr[lo:hi] - start,
                                                   counts)
        padded = np.full((hi - lo, width), np.inf)  # padding sorts last
        padded[rows, place] = weights.data[start:stop]
        ranked = np.argsort(padded, axis=1)
        running = np.cumsum(np.take_along_axis(padded, ranked, axis=1), axis=1)
        real = np.arange(width) < counts[:, None]
        in_tail[(weights.indptr[lo:hi, None] + ranked)[real]] = \
            running[real] <= tail

    map_chunks(rank_rows, range(0, weights.shape[0], step))
    return in_tail


def split_rows(weights: sp.csr_matrix,
               tail: float) -> Tuple[sp.csr_matrix, np.ndarray]:
    """Split each row of ``V`` into a head and a tail of mass at most ``tail``.

    A row's tail is its lightest entries (ties in no particular order) whose
    masses sum to at most ``tail``; the head is the rest. Heavy-first heads are
    short, which keeps the candidate product of :func:`min_overlaps` small.

    Returns:
        ``(head, tail_mass)``: the head entries as a CSR with ``V``'s values and
        sorted indices, and each row's tail mass (float64).
    """
    num = weights.shape[0]
    in_tail = _tail_entries(weights, tail)
    in_head = ~in_tail
    starts = weights.indptr[:-1]
    nonempty = np.diff(weights.indptr) > 0
    head_sizes = np.zeros(num, dtype=np.int64)
    tail_mass = np.zeros(num)
    if weights.nnz:
        head_sizes[nonempty] = np.add.reduceat(in_head, starts[nonempty],
                                               dtype=np.int64)
        tail_mass[nonempty] = np.add.reduceat(np.where(in_tail, weights.data, 0.0),
                                              starts[nonempty])
    head = sp.csr_matrix((weights.data[in_head], weights.indices[in_head],
                          np.r_[0, np.cumsum(head_sizes)]), shape=weights.shape)
    return head, tail_mass


def overlaps_above(weights: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray,
                   min_overlap: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact overlaps of the pairs ``(rows, cols)``; the ones above a bound.

    ``rows`` must be sorted ascending.

    Returns:
        ``(rows, cols, overlaps)`` of the pairs with overlap strictly above
        ``min_overlap``, in the order given.
    """
    overlaps = pair_overlaps(weights, rows, cols)
    keep = overlaps > min_overlap
    return rows[keep], cols[keep], overlaps[keep]


def min_overlaps(weights: sp.csr_matrix,
                 min_overlap: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``i < j`` with ``m_ij = sum_k min(V_ik, V_jk) > min_overlap``.

    Split every row into a head and a tail of its lightest entries, of mass
    ``t_i <= TAIL_FRACTION * min_overlap`` (:func:`split_rows`). A shared column
    lies in both heads or in a tail, and ``min(a, b) <= sqrt(a b)``, so

        ``m_ij <= h_ij + t_i + t_j``,  ``h_ij = sum_{k in head_i ∩ head_j}
        sqrt(V_ik V_jk)``.

    ``h`` is one sparse product of the square-rooted heads, computed for ``j > i``
    only (in chunks of rows, against the rows after the chunk's first); a pair with
    no shared head column has ``m_ij <= t_i + t_j < min_overlap``. Each pair whose
    bound passes is then evaluated exactly (:func:`pair_overlaps`).

    Args:
        weights: ``(N, N)`` CSR ``V`` (non-negative, sorted indices).
        min_overlap: keep pairs with overlap strictly above this (``>= 0``).

    Returns:
        ``(rows, cols, overlaps)`` of the kept pairs, ``rows < cols``, ``rows``
        ascending.
    """
    head, tail = split_rows(weights, TAIL_FRACTION * min_overlap)
    # The bound is computed in float32 (faster; it only needs to hold up to a
    # margin); the kept pairs are then evaluated in float64.
    root = sp.csr_matrix((np.sqrt(head.data).astype(np.float32), head.indices,
                          head.indptr), shape=head.shape)
    root_t = root.T.tocsr()  # column k: the rows whose head holds k, ascending
    column_sizes = np.diff(root_t.indptr).astype(np.float64)
    work = np.bincount(np.repeat(np.arange(head.shape[0]), np.diff(head.indptr)),
                       weights=column_sizes[head.indices], minlength=head.shape[0])
    margin = 1e-4 * min_overlap + 1e-6
    # Most product entries come from pairs sharing a column or two: one comparison
    # with the loosest bound (the largest tails) drops them before anything else.
    loosest = min_overlap - margin - 2.0 * tail.max(initial=0.0)

    def candidates(first: int, later: sp.csr_matrix, start: int,
                   stop: int) -> Tuple[np.ndarray, np.ndarray]:
        shared = csr_product(root[start:stop], later, workers=1)  # on a thread
        hit = np.flatnonzero(shared.data > loosest)
        rows = start + np.searchsorted(shared.indptr, hit, side='right') - 1
        cols = first + shared.indices[hit].astype(np.int64)
        keep = ((cols > rows)
                & (shared.data[hit] + tail[rows] + tail[cols] > min_overlap - margin))
        return rows[keep], cols[keep]

    # Slicing columns of root_t costs O(its nnz): once per group of rows
    # (SLICE_RATIO), whose products then run in small chunks (PRODUCT_CHUNK) on
    # the threads; a chunk also computes the pairs (i, first <= j < i), dropped.
    # All chunks of all groups share one pool (no barrier between groups); a
    # group's slice is made by the first chunk that needs it and dropped after
    # its last.
    cost = work / 2 + 1
    items = [(first, first + lo, first + hi)
             for first, end in row_chunks(cost, max(SLICE_RATIO * root.nnz,
                                                    PRODUCT_CHUNK))
             for lo, hi in row_chunks(cost[first:end], PRODUCT_CHUNK)]
    lock = threading.Lock()
    slices = {}
    pending = collections.Counter(first for first, _, _ in items)

    def run(item: Tuple[int, int, int]) -> Tuple[np.ndarray, np.ndarray]:
        first, start, stop = item
        with lock:
            if first not in slices:
                slices[first] = root_t[:, first:]  # pairs (i, j >= first) only
            later = slices[first]
        found = candidates(first, later, start, stop)
        with lock:
            pending[first] -= 1
            if not pending[first]:
                del slices[first]
        return found

    found = map_chunks(run, items)
    return overlaps_above(weights, np.concatenate([rows for rows, _ in found]),
                          np.concatenate([cols for _, cols in found]), min_overlap)


def neighbour_pair_overlaps(
        weights: sp.csr_matrix, neighbours: np.ndarray,
        min_overlap: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``i < j`` that are kNN neighbours (either way) with overlap above a bound.

    A restriction of :func:`min_overlaps` to the kNN graph, for approximate searches
    at very large N, where hubs of the approximate graph make the exact candidate
    product expensive. (On exact neighbours of 18,048 synthetic rows, 99.6% of the
    pairs with ``d <= 0.72`` are kNN pairs, all of them within two hops.)

    Args:
        weights: ``(N, N)`` CSR ``V``.
        neighbours: ``(N, k)`` neighbour indices (``-1`` = missing).
        min_overlap: keep pairs with overlap strictly above this.

    Returns:
        ``(rows, cols, overlaps)``, ``rows < cols``, sorted.
    """
    num = weights.shape[0]
    rows = np.repeat(np.arange(num), neighbours.shape[1])
    cols = neighbours.ravel()
    valid = (cols >= 0) & (cols != rows)
    rows, cols = rows[valid], cols[valid]
    keys = np.unique(np.minimum(rows, cols) * num + np.maximum(rows, cols))
    rows, cols = np.divmod(keys, num)
    return overlaps_above(weights, rows, cols, min_overlap)
