"""Exact neighbour search over L2-normalised features: kNN and thresholded range search.

Similarity is the dot product (Eq. 7's ``s_ij``). Every result is *canonical*
(:mod:`.canonical_similarity`): similarities are the float64 dot products of the
float32 rows rounded to float32, ties are broken by the smaller index, so the search
returns what the dense reference (a stable ``argsort`` of the full similarity matrix)
returns, exact ties included. Nothing is ever ``N x N``.

How (:class:`NeighbourSearch`): torch multiplies blocks of query rows with all rows
and proposes candidates, each query's top k (:mod:`.grouped_top_k`) or those above
the threshold.
With CUDA, on GPU 0 in float32 (TF32 off for the products). On the CPU, where oneDNN
multiplies bfloat16 natively (AVX512-BF16, AMX), in bfloat16, about 3.4x float32's
rate on the 2 cores here; elsewhere in float32. A proposal's error is bounded (:mod:`.proposal_precision`):
the candidates are re-scored canonically, and a row whose k-th canonical similarity
is not above what an unproposed row could reach is searched again with a larger
``k``; a range search proposes down to the threshold minus the bound. So the
proposals' precision changes the work, never the result.

Proposing the top 46 of 18,048 rows (d = 256) for every row took 1.9 s in
bfloat16 against 4.1 s for faiss's ``IndexFlatIP``, 5.7 s for torch in float32 and
6.9 s for numpy (2 shared cores, load average about 4;
``benchmarks/bench_pseudo_labels.py --proposals``): mmssl keeps torch only, the
other backends it had are gone. ``docs/benchmarks.md`` has the figures.

A prebuilt approximate faiss index (:mod:`.approximate_index`) can be passed as
``index=``: it proposes the candidates instead, and the boundary re-check is skipped:
the result is approximate by construction, but re-scored and tie-broken canonically.
"""
from typing import Optional, Tuple, Union

import numpy as np
import scipy.sparse as sp
import torch

from .canonical_similarity import (canonical_top_k, check_features,
                                   float64_database, pair_similarities)
from .grouped_top_k import grouped_top_k
from .proposal_precision import (ProposalRows, products, proposal_device,
                                 proposal_dtype, proposal_error)

#: Elements of one block of proposed similarities (4 Mi: 8 MiB in bfloat16).
BLOCK_ELEMENTS = 1 << 22

#: Candidates proposed per row in the first kNN pass, beyond ``k``: enough that the
#: k-th canonical similarity almost always clears the error bound at ``k = 30``
#: (else the row is searched again with twice as many candidates).
EXTRA_CANDIDATES = {torch.bfloat16: 16, torch.float32: 8}

BACKENDS = ('auto', 'torch')


def check_backend(backend: str) -> None:
    """Raise a clear error for a backend name that is not in :data:`BACKENDS`."""
    if backend not in BACKENDS:
        raise ValueError(f'unknown neighbour-search backend {backend!r}; expected '
                         f'one of {BACKENDS} (exact search runs on torch; pass a '
                         'faiss index as index= for approximate search)')


class NeighbourSearch:
    """Neighbour search over validated L2-normalised rows (see the module docstring).

    The rows are validated once, here; every search then trusts them, so the
    pipeline of :func:`~mmssl.labels.pseudo_label_generator.generate_pseudo_labels`
    passes one ``NeighbourSearch`` from step to step (the public functions of
    :mod:`mmssl.labels` accept one wherever they take ``features``,
    :func:`as_search`).

    Args:
        features: ``(N, d)`` database rows (L2-normalised float32), or another
            ``NeighbourSearch`` whose (validated) rows to search.
        index: optional prebuilt (approximate) faiss index over ``features``; the
            searches are then approximate (no boundary re-check).
    """

    def __init__(self, features: Union['NeighbourSearch', np.ndarray],
                 index=None):
        if isinstance(features, NeighbourSearch):
            self.features = features.features
            self._database = features._database
            self._features64 = features._features64
        else:
            self.features = check_features(features)
            self._database: Optional[ProposalRows] = None
            self._features64: Optional[torch.Tensor] = None
        self.index = index

    @property
    def approximate(self) -> bool:
        """Whether an approximate index proposes the candidates."""
        return self.index is not None

    def _database64(self) -> Optional[torch.Tensor]:
        """The rows in float64 for the canonical products, made once (None when
        too large to copy whole: :func:`float64_database`)."""
        if self._features64 is None:
            self._features64 = float64_database(self.features)
        return self._features64

    def similarities(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Canonical ``s_ij`` of database rows (:func:`pair_similarities`)."""
        return pair_similarities(self.features, self.features, rows, cols,
                                 self._database64())

    def best_of(self, rows: np.ndarray, candidates: np.ndarray,
                k: int) -> Tuple[np.ndarray, np.ndarray]:
        """The canonical top ``k`` among candidate database rows
        (:func:`canonical_top_k`, database rows as queries)."""
        return canonical_top_k(self.features, self.features, rows, candidates, k,
                               self._database64())

    # ------------------------------------------------------------ proposals
    def _database_rows(self) -> ProposalRows:
        if self._database is None:
            device = proposal_device()
            self._database = ProposalRows(self.features, proposal_dtype(device),
                                           device)
        return self._database

    def _queries(self, queries: Optional[np.ndarray]):
        """``(query array, its proposal rows)``; None means the database itself."""
        if queries is None:
            return self.features, (None if self.approximate else
                                   self._database_rows())
        queries = check_features(queries, 'queries')
        if queries.shape[1] != self.features.shape[1]:
            raise ValueError(f'queries have dimension {queries.shape[1]}, features '
                             f'{self.features.shape[1]}')
        if self.approximate:
            return queries, None
        database = self._database_rows().matrix
        return queries, ProposalRows(queries, database.dtype, database.device)

    def proposal_error(self, query: ProposalRows, rows: np.ndarray,
                       proposed: np.ndarray) -> np.ndarray:
        """Bound on ``|proposed - s|`` for proposals of query ``rows``
        (:func:`~mmssl.labels.proposal_precision.proposal_error`)."""
        return proposal_error(query, self._database_rows(), rows, proposed)

    def _blocks(self, query: ProposalRows, rows: np.ndarray):
        """Yield ``(block of rows, their proposed similarities to every row)``.

        The similarities of every block are written into one buffer: use them
        before asking for the next block."""
        database = self._database_rows().matrix
        step = max(1, BLOCK_ELEMENTS // database.shape[0])
        # one buffer for every block: a fresh process would otherwise fault in
        # new pages for each block's products
        buffer = torch.empty(min(step, len(rows)) * database.shape[0],
                             dtype=database.dtype, device=database.device)
        for start in range(0, len(rows), step):
            block = rows[start:start + step]
            picked = torch.from_numpy(block).to(database.device)
            yield block, products(query.matrix[picked], database,
                                  out=buffer[:len(block) * database.shape[0]].view(
                                      len(block), database.shape[0]))

    def _propose_knn(self, queries: np.ndarray, query: Optional[ProposalRows],
                     rows: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
        """Top-``k`` proposals of query ``rows``, in no particular order:
        ``(proposed similarities, indices)``; an index may pad with ``-1``."""
        if self.approximate:
            sims, ids = self.index.search(queries[rows], k)
            return sims, ids.astype(np.int64)
        sims = np.empty((len(rows), k), dtype=np.float32)
        ids = np.empty((len(rows), k), dtype=np.int64)
        done = 0
        for block, scores in self._blocks(query, rows):
            values, indices = grouped_top_k(scores, k)
            sims[done:done + len(block)] = values.float().cpu().numpy()
            ids[done:done + len(block)] = indices.cpu().numpy()
            done += len(block)
        return sims, ids

    def _propose_range(self, queries: np.ndarray, query: Optional[ProposalRows],
                       rows: np.ndarray,
                       threshold: float) -> Tuple[np.ndarray, np.ndarray]:
        """Every row that query ``rows`` could have at ``s >= threshold``:
        ``(query positions, indices)``."""
        if self.approximate:
            lims, _, ids = self.index.range_search(
                queries[rows], float(threshold) - 1e-4)  # keeps proposed > radius
            return (np.repeat(np.arange(len(rows)), np.diff(lims.astype(np.int64))),
                    ids.astype(np.int64))
        # s >= t needs proposed + bound(proposed) >= t; the bound grows with
        # |proposed| by the factor u / (1 - u) <= 1/255, so solve for the radius
        # with a 1/250 factor.
        margin = self.proposal_error(query, rows, 0.0)
        gap = threshold - margin
        radius = np.where(gap >= 0, gap / (1 + 1 / 250), gap / (1 - 1 / 250))
        positions, found, done = [], [], 0
        for block, scores in self._blocks(query, rows):
            limit = torch.from_numpy(radius[done:done + len(block)].astype(
                np.float32))[:, None].to(scores.device)
            hit_rows, hit_cols = torch.nonzero(scores.float() >= limit, as_tuple=True)
            positions.append(hit_rows.cpu().numpy() + done)
            found.append(hit_cols.cpu().numpy())
            done += len(block)
        return np.concatenate(positions), np.concatenate(found).astype(np.int64)

    # ------------------------------------------------------------- searches
    def knn(self, k: int,
            queries: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        """k nearest neighbours by dot product, in canonical order.

        Args:
            k: neighbours per query; ``min(k, N)`` are returned. When ``queries`` is
                None the query set is the database, so a row normally finds itself
                first (an exact duplicate with a smaller index comes before it).
            queries: ``(Q, d)`` query rows; default the database rows.

        Returns:
            ``(similarities, indices)``: ``(Q, k)`` float32 canonical similarities
            in descending order (ties: ascending index) and ``(Q, k)`` int64
            indices. Only an approximate index can find fewer than ``k``: missing
            places hold index -1 and similarity ``-inf``.
        """
        if k < 1:
            raise ValueError(f'k must be >= 1, got {k}')
        queries, query = self._queries(queries)
        num = self.features.shape[0]
        k = min(int(k), num)
        extra = 8 if self.approximate else EXTRA_CANDIDATES[
            self._database_rows().matrix.dtype]
        fetch = min(k + extra, num)
        rows = np.arange(len(queries))
        out_sims = np.empty((len(queries), k), dtype=np.float32)
        out_ids = np.empty((len(queries), k), dtype=np.int64)
        while rows.size:
            proposed_sims, proposed = self._propose_knn(queries, query, rows, fetch)
            sims, ids = canonical_top_k(queries, self.features, rows, proposed, k,
                                        self._database64())
            if self.approximate or fetch >= num:
                settled = np.ones(len(rows), dtype=bool)
            else:
                # An unproposed row has a proposal <= the lowest one proposed, so
                # its similarity is at most that plus the error bound (which grows
                # with the proposal): it cannot reach the k-th place if the
                # canonical k-th similarity is above that.
                lowest = proposed_sims.min(axis=1).astype(np.float64)
                settled = sims[:, -1] > lowest + self.proposal_error(
                    query, rows, lowest)
            out_sims[rows[settled]] = sims[settled]
            out_ids[rows[settled]] = ids[settled]
            rows = rows[~settled]
            fetch = min(2 * fetch, num)
        return out_sims, out_ids

    def range(self, threshold: float,
              queries: Optional[np.ndarray] = None) -> sp.csr_matrix:
        """All pairs with canonical similarity ``>= threshold`` (Eq. 8's
        ``Y_ij = 1``).

        Args:
            threshold: similarity threshold ``t``.
            queries: ``(Q, d)`` query rows; default the database rows (a row then
                finds itself when ``t <= 1``).

        Returns:
            ``(Q, N)`` ``scipy.sparse.csr_matrix`` of float32 canonical
            similarities, column indices sorted in each row. Every pair found is
            stored, even one whose similarity is 0 (possible only when
            ``threshold <= 0``).
        """
        queries, query = self._queries(queries)
        return self._range_rows(queries, query, np.arange(len(queries)), threshold)

    def _range_rows(self, queries: np.ndarray, query: Optional[ProposalRows],
                    rows: np.ndarray, threshold: float) -> sp.csr_matrix:
        """:meth:`range` for query ``rows`` only: a ``(len(rows), N)`` CSR."""
        positions, cand = self._propose_range(queries, query, rows, threshold)
        sims = pair_similarities(queries, self.features, rows[positions], cand,
                                 self._database64())
        keep = sims >= threshold
        positions, cand, sims = positions[keep], cand[keep], sims[keep]
        order = np.lexsort((cand, positions))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.bincount(positions, minlength=len(rows)), out=indptr[1:])
        return sp.csr_matrix((sims[order], cand[order], indptr),
                             shape=(len(rows), self.features.shape[0]))

    def range_from_knn(self, threshold: float,
                       knn: Tuple[np.ndarray, np.ndarray]) -> sp.csr_matrix:
        """Range search of the database against itself, reusing a kNN result.

        A row whose canonical k-th similarity is below ``threshold`` already lists
        every point with similarity ``>= threshold`` (the list is the exact top-k),
        so only the other rows are range-searched. This saves a second pass over
        ``N x N`` similarities when, as for the multi-label thresholds of Eq. 9,
        most rows have fewer than k positives.

        Args:
            threshold: similarity threshold ``t``.
            knn: ``(similarities, indices)``, each ``(N, k)``, of :meth:`knn`.

        Returns:
            ``(N, N)`` CSR as :meth:`range` returns it (exact when the kNN result
            is exact).
        """
        num = self.features.shape[0]
        knn_similarities = np.asarray(knn[0])
        knn_indices = np.asarray(knn[1], dtype=np.int64)
        if knn_indices.shape[0] != num or knn_similarities.shape != knn_indices.shape:
            raise ValueError(f'kNN result of shape {knn_indices.shape} does not '
                             f'match {num} features')
        complete = ((knn_similarities[:, -1] < threshold)
                    | (knn_indices.shape[1] >= num))
        keep = (knn_similarities >= threshold) & (knn_indices >= 0)
        keep[~complete] = False
        rows = np.repeat(np.arange(num), keep.sum(axis=1))
        cols = knn_indices[keep]
        sims = knn_similarities[keep]
        incomplete = np.flatnonzero(~complete)
        if incomplete.size:
            extra = self._range_rows(*self._queries(None), incomplete,
                                     threshold).tocoo()
            rows = np.concatenate([rows, incomplete[extra.row]])
            cols = np.concatenate([cols, extra.col.astype(np.int64)])
            sims = np.concatenate([sims, extra.data])
        order = np.lexsort((cols, rows))
        indptr = np.zeros(num + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=num), out=indptr[1:])
        return sp.csr_matrix((sims[order], cols[order], indptr), shape=(num, num))


SearchOrFeatures = Union[NeighbourSearch, np.ndarray]


def as_search(features: SearchOrFeatures, backend: str = 'auto',
              index=None) -> NeighbourSearch:
    """``features`` as a :class:`NeighbourSearch`: validated unless it already is one.

    Args:
        features: ``(N, d)`` rows, or a :class:`NeighbourSearch` (returned as it
            is unless another ``index`` is given).
        backend: ``'auto'`` or ``'torch'`` (the same: exact search runs on torch).
        index: optional prebuilt faiss index over the rows.
    """
    check_backend(backend)
    if isinstance(features, NeighbourSearch) and index in (None, features.index):
        return features
    return NeighbourSearch(features, index=index)


def knn_search(features: SearchOrFeatures,
               k: int,
               queries: Optional[np.ndarray] = None,
               *,
               backend: str = 'auto',
               index=None) -> Tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by dot product (:meth:`NeighbourSearch.knn`).

    Args:
        features: ``(N, d)`` database rows (L2-normalised float32), or a
            :class:`NeighbourSearch` over them.
        k: neighbours per query (see :meth:`NeighbourSearch.knn`).
        queries: ``(Q, d)`` query rows; default ``features``.
        backend: ``'auto'`` or ``'torch'``.
        index: optional prebuilt (approximate) faiss index over ``features``.

    Returns:
        ``(similarities, indices)``, each ``(Q, k)``, in canonical order.
    """
    return as_search(features, backend, index).knn(k, queries)


def range_search(features: SearchOrFeatures,
                 threshold: float,
                 queries: Optional[np.ndarray] = None,
                 *,
                 backend: str = 'auto',
                 index=None) -> sp.csr_matrix:
    """All pairs with canonical similarity ``>= threshold``
    (:meth:`NeighbourSearch.range`).

    Args:
        features: ``(N, d)`` database rows, or a :class:`NeighbourSearch`.
        threshold: similarity threshold ``t``.
        queries: ``(Q, d)`` query rows; default ``features``.
        backend: ``'auto'`` or ``'torch'``.
        index: optional prebuilt approximate faiss index over ``features``.

    Returns:
        ``(Q, N)`` CSR of float32 canonical similarities, sorted column indices.
    """
    return as_search(features, backend, index).range(threshold, queries)


def range_search_from_knn(features: SearchOrFeatures,
                          threshold: float,
                          knn_similarities: np.ndarray,
                          knn_indices: np.ndarray,
                          *,
                          backend: str = 'auto',
                          index=None) -> sp.csr_matrix:
    """Range search of the rows against themselves, reusing a kNN result
    (:meth:`NeighbourSearch.range_from_knn`).

    Args:
        features: ``(N, d)`` rows, or a :class:`NeighbourSearch`.
        threshold: similarity threshold ``t``.
        knn_similarities: ``(N, k)`` output of :func:`knn_search` on ``features``.
        knn_indices: ``(N, k)`` output of :func:`knn_search` on ``features``.
        backend: ``'auto'`` or ``'torch'``.
        index: optional approximate index for the rows that need a range search.

    Returns:
        ``(N, N)`` CSR as :func:`range_search` returns it.
    """
    return as_search(features, backend, index).range_from_knn(
        threshold, (knn_similarities, knn_indices))
