"""The product of two CSR matrices in one pass, in chunks of rows on torch's threads.

scipy's ``A @ B`` for CSR matrices runs two passes of the same loop: one counts the
product's entries (``csr_matmat_maxnnz``), the other computes them
(``csr_matmat``). The count costs 40% of the product on the weight matrices of the
Jaccard step. :func:`csr_product` skips it: every row of ``A @ B`` holds at most
``sum_{k in row i of A} |row k of B|`` entries, a bound read off the index pointers
in ``O(nnz(A))``, so the arrays are allocated to that bound, filled by scipy's
``csr_matmat`` and trimmed. Rows of the product do not depend on each other: they
are computed in chunks (:data:`CHUNK_ENTRIES`, cache-sized) on
:func:`~mmssl.labels.chunk_threads.map_chunks`'s threads. The result is the one
``A @ B`` returns (the same kernel, the same order of summation); where scipy lacks
that kernel, :func:`csr_product` is ``A @ B``.
"""
from typing import Optional

import numpy as np
import scipy.sparse as sp

from .chunk_threads import chunk_workers, map_chunks, row_chunks

try:  # scipy's C++ kernel (private, stable since scipy 0.7)
    from scipy.sparse._sparsetools import csr_matmat as _csr_matmat
except ImportError:  # pragma: no cover - depends on the installed scipy
    _csr_matmat = None

#: Bound on the product entries of one chunk of rows (256 Ki: ~3 MiB of indices
#: and values), small enough that a thread's chunks reuse the same memory.
CHUNK_ENTRIES = 1 << 18


def product_row_bounds(left: sp.csr_matrix, right: sp.csr_matrix) -> np.ndarray:
    """Upper bound on the entries of each row of ``left @ right`` (int64):
    the summed lengths of the rows of ``right`` that the row's entries select,
    capped at the number of columns."""
    lengths = np.diff(right.indptr).astype(np.int64)
    rows = np.repeat(np.arange(left.shape[0]), np.diff(left.indptr))
    bounds = np.bincount(rows, weights=lengths[left.indices],
                         minlength=left.shape[0]).astype(np.int64)
    return np.minimum(bounds, right.shape[1])


def csr_product(left: sp.csr_matrix, right: sp.csr_matrix,
                workers: Optional[int] = None,
                sort_indices: bool = False) -> sp.csr_matrix:
    """``left @ right`` for CSR matrices, without scipy's counting pass.

    Args:
        left: ``(M, K)`` CSR.
        right: ``(K, N)`` CSR.
        workers: threads for the chunks of rows; default
            :func:`~mmssl.labels.chunk_threads.chunk_workers` (pass 1 from code
            that already runs on those threads).
        sort_indices: sort the column indices of each row (on the threads, chunk
            by chunk), as ``(left @ right).sorted_indices()``.

    Returns:
        ``(M, N)`` CSR, equal to ``left @ right`` (entries, order and values; like
        scipy's product, entries that sum to exactly 0 are dropped, and the column
        indices of a row are not sorted unless ``sort_indices``).
    """
    if not all(sp.issparse(m) and m.format == 'csr' for m in (left, right)):
        raise TypeError('csr_product multiplies two scipy.sparse CSR matrices')
    if left.shape[1] != right.shape[0]:
        raise ValueError(f'shapes {left.shape} and {right.shape} do not align')
    dtype = np.result_type(left.dtype, right.dtype)
    if _csr_matmat is None or dtype.kind not in 'fc':
        product = (left @ right).tocsr()
        if sort_indices:
            product.sort_indices()
        return product
    bounds = product_row_bounds(left, right)
    capacity = int(bounds.sum())
    shape = (left.shape[0], right.shape[1])
    if capacity == 0:
        return sp.csr_matrix(shape, dtype=dtype)
    limit = max(capacity, left.nnz, right.nnz, *left.shape, *right.shape)
    index = np.int32 if limit < np.iinfo(np.int32).max else np.int64
    right_arrays = (right.indptr.astype(index, copy=False),
                    right.indices.astype(index, copy=False),
                    right.data.astype(dtype, copy=False))
    left_indices = left.indices.astype(index, copy=False)
    left_data = left.data.astype(dtype, copy=False)
    workers = chunk_workers() if workers is None else max(1, int(workers))

    def rows_of(chunk):
        lo, hi = chunk
        first, last = left.indptr[lo], left.indptr[hi]
        room = int(bounds[lo:hi].sum())
        indptr = np.empty(hi - lo + 1, dtype=index)
        indices = np.empty(room, dtype=index)
        data = np.empty(room, dtype=dtype)
        _csr_matmat(hi - lo, shape[1],
                    (left.indptr[lo:hi + 1] - first).astype(index),
                    left_indices[first:last], left_data[first:last],
                    *right_arrays, indptr, indices, data)
        size = int(indptr[-1])
        if sort_indices:  # on this thread
            chunk = sp.csr_matrix((data[:size], indices[:size], indptr),
                                  shape=(hi - lo, shape[1]))
            chunk.sort_indices()
            return chunk.indptr, chunk.indices, chunk.data
        return indptr, indices[:size], data[:size]

    parts = map_chunks(rows_of, row_chunks(bounds, CHUNK_ENTRIES, workers),
                       workers)
    sizes = np.array([int(part[0][-1]) for part in parts], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    indptr = np.concatenate([np.zeros(1, dtype=np.int64)] + [
        part[0][1:].astype(np.int64) + offset
        for part, offset in zip(parts, offsets)])
    index = np.int32 if indptr[-1] < np.iinfo(np.int32).max else np.int64
    product = sp.csr_matrix((np.concatenate([part[2] for part in parts]),
                             np.concatenate([part[1] for part in parts]).astype(
                                 index, copy=False),
                             indptr.astype(index)), shape=shape)
    if sort_indices:
        product.has_sorted_indices = True
    return product
