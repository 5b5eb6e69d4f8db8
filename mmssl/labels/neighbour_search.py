"""Exact neighbour search over L2-normalised features: kNN and thresholded range search.

Similarity is the dot product (Eq. 7's ``s_ij``). Every result is *canonical*:
similarities are the float64 dot products of the float32 rows rounded to float32
(:func:`pair_similarities`), ties are broken by the smaller index. A backend only
proposes candidates in its own float32 arithmetic; they are re-scored canonically, and
a row whose answer could still change (an unretrieved point within
:data:`SEARCH_SLACK` of the k-th place) is searched again with a larger ``k``. So every
backend returns what the dense reference (a stable ``argsort`` of the full similarity
matrix) returns, exact ties included, and nothing is ever ``N x N``: work is done in
bounded blocks.

Backends (``backend=``):

* ``'faiss-gpu'``: ``IndexFlatIP`` moved to GPU 0 with ``faiss.index_cpu_to_gpu``, when
  faiss is built with GPU support and ``faiss.get_num_gpus() > 0``. faiss GPU indexes
  have no ``range_search``; it is emulated by kNN with ``k`` doubling for the rows whose
  k-th similarity is still above the threshold; ``k`` above faiss's GPU limit
  (:data:`FAISS_GPU_MAX_K`) goes to the CPU copy of the index.
* ``'faiss'``: ``IndexFlatIP`` on CPU (``search``, ``range_search``).
* ``'torch'``: blockwise products with torch (its BLAS) on CPU, ``torch.topk``.
* ``'numpy'``: blockwise products with numpy, ``argpartition`` (the fallback when
  neither faiss nor torch is importable).
* ``'auto'`` (default): ``'faiss-gpu'`` when available, else ``'torch'``, else
  ``'faiss'``, else ``'numpy'``. On the 2-core CPU here the torch path searched 18,048
  rows about twice as fast as faiss's ``IndexFlatIP`` (k = 38).

For ``'torch'`` and ``'numpy'``, when the queries are the database itself, tiles
``(I, J >= I)`` of the similarity matrix are computed once and used for both row
blocks (half the multiply-adds), and most of the selection is a comparison with each
row's running k-th best (see ``_Proposer.knn_self``).

A prebuilt approximate faiss index (:mod:`.approximate_index`) can be passed as
``index=``; it replaces the backend and the boundary re-check is skipped: the result
is approximate by construction, but re-scored and tie-broken canonically.
"""
from typing import Optional, Tuple

import numpy as np
import scipy.sparse as sp

#: Bound on the difference between a backend's float32 similarity and the canonical
#: one for unit vectors (a 256-d float32 dot product errs by about 1e-7; the bound is
#: generous so that rows near a boundary are re-checked, never mis-answered).
SEARCH_SLACK = 1e-4

#: Largest ``k`` faiss GPU indexes accept in ``search``.
FAISS_GPU_MAX_K = 2048

BACKENDS = ('auto', 'faiss-gpu', 'faiss', 'torch', 'numpy')

#: Elements of one score block (float32): 16 Mi elements = 64 MiB.
BLOCK_ELEMENTS = 1 << 24


def import_faiss():
    """Return the ``faiss`` module, or None when it is not importable."""
    try:
        import faiss  # noqa: PLC0415 (optional dependency)
    except ImportError:
        return None
    return faiss


def import_torch():
    """Return the ``torch`` module, or None when it is not importable."""
    try:
        import torch  # noqa: PLC0415 (optional dependency)
    except ImportError:
        return None
    return torch


def faiss_gpu_available() -> bool:
    """Whether faiss is importable, built with GPU support and sees a GPU."""
    faiss = import_faiss()
    return bool(faiss is not None and hasattr(faiss, 'StandardGpuResources')
                and faiss.get_num_gpus() > 0)


def resolve_backend(backend: str = 'auto') -> str:
    """Turn ``'auto'`` into a concrete backend and check that it is available.

    Args:
        backend: one of :data:`BACKENDS`.

    Returns:
        ``'faiss-gpu'``, ``'faiss'``, ``'torch'`` or ``'numpy'``.

    Raises:
        ValueError: unknown name, or the named backend is not available here.
    """
    if backend not in BACKENDS:
        raise ValueError(f'unknown neighbour-search backend {backend!r}; '
                         f'expected one of {BACKENDS}')
    if backend == 'auto':
        if faiss_gpu_available():
            return 'faiss-gpu'
        if import_torch() is not None:
            return 'torch'
        return 'faiss' if import_faiss() is not None else 'numpy'
    if backend == 'faiss' and import_faiss() is None:
        raise ValueError("backend 'faiss' requested but faiss is not importable")
    if backend == 'torch' and import_torch() is None:
        raise ValueError("backend 'torch' requested but torch is not importable")
    if backend == 'faiss-gpu' and not faiss_gpu_available():
        raise ValueError("backend 'faiss-gpu' requested but faiss has no GPU "
                         'support or sees no GPU')
    return backend


def check_features(features: np.ndarray, name: str = 'features') -> np.ndarray:
    """Validate an ``(N, d)`` feature matrix and return it as C-contiguous float32.

    Raises:
        ValueError: wrong rank, empty, or a non-finite value (the message names the
            first bad row).
    """
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(f'{name} must be a non-empty (N, d) array, got shape '
                         f'{features.shape}')
    features = np.ascontiguousarray(features, dtype=np.float32)
    finite = np.isfinite(features).all(axis=1)
    if not finite.all():
        raise ValueError(f'{name}: row {int(np.flatnonzero(~finite)[0])} holds a '
                         'non-finite value')
    return features


def pair_similarities(queries: np.ndarray, database: np.ndarray,
                      rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Canonical similarities ``float32(<q_rows, x_cols>)``, accumulated in float64.

    The one definition of ``s_ij`` (Eq. 7) that all of :mod:`mmssl.labels` uses, so
    that the sparse path and the dense reference agree to the bit, ties included
    (products of float32 numbers are exact in float64, so the summation order only
    moves the float64 sum by ~1e-17, which the rounding to float32 removes).

    Args:
        queries: ``(Q, d)`` float32.
        database: ``(N, d)`` float32.
        rows: int array of query rows, any shape.
        cols: int array of database rows, same shape as ``rows``.

    Returns:
        float32 array of the shape of ``rows``.
    """
    rows = np.asarray(rows)
    cols = np.asarray(cols)
    out = np.empty(rows.shape, dtype=np.float32)
    flat_rows, flat_cols, flat_out = rows.ravel(), cols.ravel(), out.reshape(-1)
    step = max(1, (1 << 22) // max(1, queries.shape[1]))
    for start in range(0, flat_rows.size, step):
        stop = start + step
        flat_out[start:stop] = np.einsum(
            'ij,ij->i', queries[flat_rows[start:stop]],
            database[flat_cols[start:stop]], dtype=np.float64)
    return out


class _Proposer:
    """Proposes candidate neighbours of query rows with one backend."""

    def __init__(self, database: np.ndarray, backend: str, index=None):
        self.database = database
        self.backend = backend
        self.index = index
        self.cpu_index = None
        self.gpu_resources = None
        if index is None and backend in ('faiss', 'faiss-gpu'):
            faiss = import_faiss()
            self.cpu_index = faiss.IndexFlatIP(database.shape[1])
            self.cpu_index.add(database)
            self.index = self.cpu_index
            if backend == 'faiss-gpu':
                self.gpu_resources = faiss.StandardGpuResources()
                self.index = faiss.index_cpu_to_gpu(self.gpu_resources, 0,
                                                    self.cpu_index)
        self.on_gpu = index is not None and type(index).__name__.startswith('Gpu')
        self.on_gpu = self.on_gpu or backend == 'faiss-gpu'

    # ------------------------------------------------------------------ kNN
    def knn(self, queries: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
        """Backend top-``k`` of each query, in no particular order: (similarities,
        indices); an approximate index may pad with index ``-1``."""
        k = min(k, self.database.shape[0])
        if self.index is not None:
            return self._faiss_knn(queries, k)
        rows_per_block = max(1, BLOCK_ELEMENTS // self.database.shape[0])
        sims = np.empty((len(queries), k), dtype=np.float32)
        ids = np.empty((len(queries), k), dtype=np.int64)
        for start in range(0, len(queries), rows_per_block):
            stop = min(start + rows_per_block, len(queries))
            block = self._matmul(queries[start:stop], self.database)
            sims[start:stop], ids[start:stop] = self._top_k_rows(block, k)
        return sims, ids

    def _faiss_knn(self, queries: np.ndarray,
                   k: int) -> Tuple[np.ndarray, np.ndarray]:
        chunk = 16384
        sims = np.empty((len(queries), k), dtype=np.float32)
        ids = np.empty((len(queries), k), dtype=np.int64)
        index = self.index
        if self.on_gpu and k > FAISS_GPU_MAX_K:
            if self.cpu_index is None:
                raise ValueError(f'k={k} exceeds the faiss GPU limit '
                                 f'{FAISS_GPU_MAX_K} and no CPU index is kept')
            index = self.cpu_index
        for start in range(0, len(queries), chunk):
            block_sims, block_ids = index.search(queries[start:start + chunk], k)
            sims[start:start + chunk] = block_sims
            ids[start:start + chunk] = block_ids
        return sims, ids

    def _matmul(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """``left @ right.T`` in float32 (torch's BLAS when it is the backend)."""
        if self.backend == 'torch':
            torch = import_torch()
            return (torch.from_numpy(left) @ torch.from_numpy(right).T).numpy()
        return left @ right.T

    def _top_k_rows(self, block: np.ndarray,
                    k: int) -> Tuple[np.ndarray, np.ndarray]:
        """Unordered top-``k`` of each row of a score block: (values, columns)."""
        if self.backend == 'torch':
            torch = import_torch()
            top = torch.topk(torch.from_numpy(block), k, dim=1, sorted=False)
            return top.values.numpy(), top.indices.numpy()
        cut = block.shape[1] - k
        cols = np.argpartition(block, cut, axis=1)[:, cut:]
        return np.take_along_axis(block, cols, axis=1), cols

    def knn_self(self, k: int) -> Tuple[np.ndarray, np.ndarray]:
        """Top-``k`` of every database row against the database itself.

        The similarity matrix is visited in square tiles ``(I, J >= I)``, each
        computed once and used for both row blocks (half the multiply-adds). The
        diagonal tiles go first with a top-``k`` selection; they give every row a
        running k-th best similarity, and an off-diagonal tile then only passes on
        the entries above it (a comparison, far cheaper than a selection), which
        are merged into the running top-``k``.
        """
        if self.index is not None:
            return self.knn(self.database, k)
        num = self.database.shape[0]
        k = min(k, num)
        side = int(max(256, np.sqrt(BLOCK_ELEMENTS)))
        best_sims = np.full((num, k), -np.inf, dtype=np.float32)
        best_ids = np.full((num, k), -1, dtype=np.int64)
        blocks = [(lo, min(lo + side, num)) for lo in range(0, num, side)]
        for lo, hi in blocks:
            tile = self._matmul(self.database[lo:hi], self.database[lo:hi])
            sims, cols = self._top_k_rows(tile, min(k, hi - lo))
            order = np.argsort(-sims, axis=1, kind='stable')  # last = k-th best
            best_sims[lo:hi, :sims.shape[1]] = np.take_along_axis(sims, order, 1)
            best_ids[lo:hi, :sims.shape[1]] = np.take_along_axis(cols, order,
                                                                 1) + lo
        for position, (i_lo, i_hi) in enumerate(blocks):
            for j_lo, j_hi in blocks[position + 1:]:
                tile = self._matmul(self.database[i_lo:i_hi],
                                    self.database[j_lo:j_hi])
                above_row = tile > best_sims[i_lo:i_hi, -1:]
                above_col = tile > best_sims[j_lo:j_hi, -1][None, :]
                flat = np.flatnonzero(above_row | above_col)
                rows, cols = np.divmod(flat, tile.shape[1])
                sims = tile.ravel()[flat]
                by_row = above_row.ravel()[flat]
                by_col = above_col.ravel()[flat]
                _merge_top_k(best_sims, best_ids, i_lo, i_hi, rows[by_row] + i_lo,
                             cols[by_row] + j_lo, sims[by_row])
                _merge_top_k(best_sims, best_ids, j_lo, j_hi, cols[by_col] + j_lo,
                             rows[by_col] + i_lo, sims[by_col])
        order = np.argsort(-best_sims, axis=1, kind='stable')
        return (np.take_along_axis(best_sims, order, axis=1),
                np.take_along_axis(best_ids, order, axis=1))

    # ---------------------------------------------------------------- range
    def range(self, queries: np.ndarray,
              radius: float) -> Tuple[np.ndarray, np.ndarray]:
        """Backend candidates with similarity >= ``radius``: (lims, indices)."""
        if self.index is not None and not self.on_gpu:
            # faiss keeps inner-product results with similarity > radius.
            lims, _, ids = self.index.range_search(queries, float(radius))
            return lims.astype(np.int64), ids.astype(np.int64)
        if self.index is not None:
            return self._range_by_growing_knn(queries, radius)
        rows_per_block = max(1, BLOCK_ELEMENTS // self.database.shape[0])
        counts, found = [], []
        for start in range(0, len(queries), rows_per_block):
            block = queries[start:start + rows_per_block] @ self.database.T
            rows, cols = np.nonzero(block >= radius)
            counts.append(np.bincount(rows, minlength=block.shape[0]))
            found.append(cols.astype(np.int64))
        lims = np.zeros(len(queries) + 1, dtype=np.int64)
        np.cumsum(np.concatenate(counts), out=lims[1:])
        return lims, np.concatenate(found)

    def _range_by_growing_knn(self, queries: np.ndarray,
                              radius: float) -> Tuple[np.ndarray, np.ndarray]:
        """Range search on a GPU index: kNN with ``k`` doubling where needed."""
        num = self.database.shape[0]
        k = min(64, num)
        pending = np.arange(len(queries))
        found = [np.zeros(0, dtype=np.int64)] * len(queries)
        while pending.size:
            sims, ids = self.knn(queries[pending], k)
            complete = (sims.min(axis=1) < radius) | (k >= num)
            for row, row_sims, row_ids in zip(pending[complete], sims[complete],
                                              ids[complete]):
                found[row] = row_ids[(row_sims >= radius) & (row_ids >= 0)]
            pending = pending[~complete]
            k = min(2 * k, num)
        lims = np.zeros(len(queries) + 1, dtype=np.int64)
        np.cumsum([len(f) for f in found], out=lims[1:])
        return lims, np.concatenate(found).astype(np.int64)


def _merge_top_k(best_sims: np.ndarray, best_ids: np.ndarray, lo: int, hi: int,
                 rows: np.ndarray, ids: np.ndarray, sims: np.ndarray) -> None:
    """Merge entries ``(rows, ids, sims)`` into the running top-k lists, in place.

    ``rows`` lie in ``[lo, hi)``. One sort of the affected rows' lists plus the new
    entries by (row, descending similarity), then the first ``k`` of each row are
    written back (the order among exactly equal similarities does not matter: the
    result is re-scored canonically).
    """
    if rows.size == 0:
        return
    k = best_sims.shape[1]
    new_per_row = np.bincount(rows - lo, minlength=hi - lo)
    affected = lo + np.flatnonzero(new_per_row)
    all_rows = np.concatenate([np.repeat(affected, k), rows])
    all_sims = np.concatenate([best_sims[affected].ravel(), sims])
    all_ids = np.concatenate([best_ids[affected].ravel(), ids])
    # Row-major key, similarity descending inside a row; -inf (empty places) as -3.
    key = all_rows + (1.0 - np.maximum(all_sims.astype(np.float64), -3.0)) / 8.0
    order = np.argsort(key)
    sizes = k + new_per_row[affected - lo]
    rank = np.arange(len(order)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    keep = rank < k
    kept_rows = all_rows[order[keep]]
    best_sims[kept_rows, rank[keep]] = all_sims[order[keep]]
    best_ids[kept_rows, rank[keep]] = all_ids[order[keep]]


def canonical_top_k(queries: np.ndarray, features: np.ndarray,
                    rows: np.ndarray, candidates: np.ndarray,
                    k: int) -> Tuple[np.ndarray, np.ndarray]:
    """Canonical similarities of the candidates, sorted, cut to ``k`` per row.

    Order: descending similarity, then ascending index; missing candidates (-1)
    come last with similarity ``-inf``.

    Args:
        queries: ``(Q, d)`` query rows.
        features: ``(N, d)`` database rows.
        rows: which queries (indices into ``queries``) the candidate rows belong to.
        candidates: ``(len(rows), m)`` database indices, ``-1`` = none; no index may
            repeat within a row.
        k: places kept per row.

    Returns:
        ``(similarities, indices)``, each ``(len(rows), min(k, m))``.
    """
    valid = candidates >= 0
    safe = np.where(valid, candidates, 0)
    sims = np.empty(safe.shape, dtype=np.float32)
    step = max(1, (1 << 22) // max(1, safe.shape[1] * features.shape[1]))
    for start in range(0, len(rows), step):
        # same float64 accumulation as pair_similarities, one query per block row
        sims[start:start + step] = np.einsum(
            'bd,bmd->bm', queries[rows[start:start + step]],
            features[safe[start:start + step]], dtype=np.float64)
    sims[~valid] = -np.inf
    safe = np.where(valid, safe, np.iinfo(np.int64).max)
    by_index = np.argsort(safe, axis=1, kind='stable')
    sims = np.take_along_axis(sims, by_index, axis=1)
    safe = np.take_along_axis(safe, by_index, axis=1)
    by_sim = np.argsort(-sims, axis=1, kind='stable')[:, :k]
    sims = np.take_along_axis(sims, by_sim, axis=1)
    ids = np.take_along_axis(safe, by_sim, axis=1)
    ids[np.isneginf(sims)] = -1
    return sims, ids


def _prepare(features, queries, backend, index):
    features = check_features(features)
    same = queries is None
    queries = features if same else check_features(queries, 'queries')
    if queries.shape[1] != features.shape[1]:
        raise ValueError(f'queries have dimension {queries.shape[1]}, features '
                         f'{features.shape[1]}')
    backend = resolve_backend(backend) if index is None else 'index'
    return features, queries, same, _Proposer(features, backend, index)


def knn_search(features: np.ndarray,
               k: int,
               queries: Optional[np.ndarray] = None,
               *,
               backend: str = 'auto',
               index=None) -> Tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by dot product, in canonical order.

    Args:
        features: ``(N, d)`` database rows (L2-normalised float32).
        k: neighbours per query; ``min(k, N)`` are returned. When ``queries`` is
            None the query set is the database, so a row normally finds itself first
            (an exact duplicate with a smaller index comes before it).
        queries: ``(Q, d)`` query rows; default ``features``.
        backend: see the module docstring.
        index: optional prebuilt (approximate) faiss index over ``features``; the
            search is then approximate (no boundary re-check).

    Returns:
        ``(similarities, indices)``: ``(Q, k)`` float32 canonical similarities in
        descending order (ties: ascending index) and ``(Q, k)`` int64 indices. Only
        an approximate ``index`` can find fewer than ``k``: missing places hold index
        -1 and similarity ``-inf``.
    """
    features, queries, same, proposer = _prepare(features, queries, backend, index)
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    num = features.shape[0]
    k = min(int(k), num)
    fetch = min(k + max(8, k // 4), num)
    approximate = index is not None
    if same:
        proposed_sims, proposed = proposer.knn_self(fetch)
    else:
        proposed_sims, proposed = proposer.knn(queries, fetch)
    rows = np.arange(len(queries))
    out_sims = np.empty((len(queries), k), dtype=np.float32)
    out_ids = np.empty((len(queries), k), dtype=np.int64)
    while rows.size:
        sims, ids = canonical_top_k(queries, features, rows, proposed, k)
        if approximate or fetch >= num:
            settled = np.ones(len(rows), dtype=bool)
        else:
            # An unretrieved point has backend similarity <= the lowest one
            # retrieved, so it cannot reach the k-th place if the canonical k-th
            # similarity is clearly above that.
            settled = sims[:, -1] > proposed_sims.min(axis=1) + SEARCH_SLACK
        out_sims[rows[settled]] = sims[settled]
        out_ids[rows[settled]] = ids[settled]
        rows = rows[~settled]
        if rows.size:
            fetch = min(2 * fetch, num)
            proposed_sims, proposed = proposer.knn(queries[rows], fetch)
    return out_sims, out_ids


def range_search(features: np.ndarray,
                 threshold: float,
                 queries: Optional[np.ndarray] = None,
                 *,
                 backend: str = 'auto',
                 index=None) -> sp.csr_matrix:
    """All pairs with canonical similarity ``>= threshold`` (Eq. 8's ``Y_ij = 1``).

    Args:
        features: ``(N, d)`` database rows (L2-normalised float32).
        threshold: similarity threshold ``t``.
        queries: ``(Q, d)`` query rows; default ``features`` (a row then finds itself
            when ``t <= 1``).
        backend: see the module docstring.
        index: optional prebuilt approximate faiss index over ``features``.

    Returns:
        ``(Q, N)`` ``scipy.sparse.csr_matrix`` of float32 canonical similarities,
        column indices sorted in each row. Every pair found is stored, even one whose
        similarity is 0 (possible only when ``threshold <= 0``).
    """
    features, queries, _, proposer = _prepare(features, queries, backend, index)
    rows_per_chunk = 16384
    counts, all_cols, all_sims = [], [], []
    for start in range(0, len(queries), rows_per_chunk):
        stop = min(start + rows_per_chunk, len(queries))
        lims, cand = proposer.range(queries[start:stop], threshold - SEARCH_SLACK)
        rows = start + np.repeat(np.arange(stop - start), np.diff(lims))
        sims = pair_similarities(queries, features, rows, cand)
        keep = sims >= threshold
        rows, cand, sims = rows[keep], cand[keep], sims[keep]
        order = np.lexsort((cand, rows))
        counts.append(np.bincount(rows - start, minlength=stop - start))
        all_cols.append(cand[order])
        all_sims.append(sims[order])
    indptr = np.zeros(len(queries) + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=indptr[1:])
    return sp.csr_matrix(
        (np.concatenate(all_sims), np.concatenate(all_cols), indptr),
        shape=(len(queries), features.shape[0]))


def range_search_from_knn(features: np.ndarray,
                          threshold: float,
                          knn_similarities: np.ndarray,
                          knn_indices: np.ndarray,
                          *,
                          backend: str = 'auto',
                          index=None) -> sp.csr_matrix:
    """Range search of the database against itself, reusing a kNN result.

    A row whose canonical k-th similarity is below ``threshold`` already lists every
    point with similarity ``>= threshold`` (the list is the exact top-k), so only the
    other rows are range-searched. This saves a second pass over ``N x N``
    similarities when, as for the multi-label thresholds of Eq. 9, most rows have
    fewer than k positives.

    Args:
        features: ``(N, d)`` rows (L2-normalised float32).
        threshold: similarity threshold ``t``.
        knn_similarities: ``(N, k)`` output of :func:`knn_search` on ``features``.
        knn_indices: ``(N, k)`` output of :func:`knn_search` on ``features``.
        backend: backend for the rows that need a range search.
        index: optional approximate index for those rows.

    Returns:
        ``(N, N)`` CSR as :func:`range_search` returns it (exact when the kNN result
        is exact).
    """
    features = check_features(features)
    num = features.shape[0]
    knn_similarities = np.asarray(knn_similarities)
    knn_indices = np.asarray(knn_indices, dtype=np.int64)
    if knn_indices.shape[0] != num or knn_similarities.shape != knn_indices.shape:
        raise ValueError(f'kNN result of shape {knn_indices.shape} does not match '
                         f'{num} features')
    complete = (knn_similarities[:, -1] < threshold) | (knn_indices.shape[1] >= num)
    keep = (knn_similarities >= threshold) & (knn_indices >= 0)
    keep[~complete] = False
    rows = np.repeat(np.arange(num), keep.sum(axis=1))
    cols = knn_indices[keep]
    sims = knn_similarities[keep]
    incomplete = np.flatnonzero(~complete)
    if incomplete.size:
        extra = range_search(features, threshold, features[incomplete],
                             backend=backend, index=index).tocoo()
        rows = np.concatenate([rows, incomplete[extra.row]])
        cols = np.concatenate([cols, extra.col.astype(np.int64)])
        sims = np.concatenate([sims, extra.data])
    order = np.lexsort((cols, rows))
    indptr = np.zeros(num + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=num), out=indptr[1:])
    return sp.csr_matrix((sims[order], cols[order], indptr), shape=(num, num))
