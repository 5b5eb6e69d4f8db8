"""The canonical similarity of :mod:`mmssl.labels`: rows checked once, ``s_ij`` and
the order of neighbours defined once.

``s_ij`` (Eq. 7) is the float64 dot product of the float32 rows, rounded to float32
(:func:`pair_similarities`); neighbours are ordered by descending ``s_ij``, ties by
the smaller index (:func:`canonical_top_k`). The sparse path and the dense
reference (:mod:`.dense_reference`) both use these definitions, so they agree to the
bit, exact ties included.

The float64 products of given pairs are one sampled dense-dense product
(``torch.sparse.sampled_addmm``: the dot products of a CSR pattern's entries only,
on torch's intra-op threads) against a float64 copy of the database, not a gather
of the rows: re-scoring the 46 proposals of each of 5,000 rows (d = 256) took 10 ms
this way against 45 ms for numpy's gather and ``einsum`` on the same 2 threads,
with the same values. A database whose float64 copy would exceed
:data:`FLOAT64_COPY_BYTES` (above 131,072 rows at d = 256, the approximate path of a
million rows among them) keeps the gathers, in cache-sized chunks on the threads,
so that memory stays bounded.
"""
import warnings
from typing import Optional, Tuple

import numpy as np
import torch

from .chunk_threads import map_chunks

#: Pairs whose products are computed per call of the sampled product (bounds the
#: float64 copies of the query rows it needs: at most this many rows).
PAIR_CHUNK = 1 << 20

#: Largest float64 copy of the database (bytes) made whole for the sampled
#: product; above it the rows are gathered per chunk instead.
FLOAT64_COPY_BYTES = 1 << 28

#: Feature values gathered per chunk without the float64 copy (1 Mi float32: 4 MiB;
#: small chunks run on memory the allocator hands back and forth instead of fresh
#: pages: a fresh process's first call ran 2x faster with 4 MiB than 16 MiB).
GATHER_ELEMENTS = 1 << 20

#: Rows of candidates ordered per chunk on the threads (:func:`canonical_top_k`).
ORDER_ROWS = 8192


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


def float64_database(database: np.ndarray) -> Optional[torch.Tensor]:
    """``database`` as a float64 tensor when that copy fits
    :data:`FLOAT64_COPY_BYTES`, else None (the products then gather rows)."""
    if database.size * 8 > FLOAT64_COPY_BYTES:
        return None
    return torch.from_numpy(database).double()


def _copy_for(database: np.ndarray, num_pairs: int) -> Optional[torch.Tensor]:
    """The float64 copy a call without one makes: only when it has at least as many
    pairs as the database has rows (else gathering the pairs' rows is cheaper than
    copying them all)."""
    return float64_database(database) if num_pairs >= len(database) else None


def _pair_products(left: np.ndarray, crow: np.ndarray, cols: np.ndarray,
                   database: np.ndarray,
                   database64: Optional[torch.Tensor]) -> np.ndarray:
    """float64 ``<left[r], database[c]>`` of each CSR entry ``(r, c)``.

    Args:
        left: ``(R, d)`` float32 rows, one per CSR row.
        crow: ``(R + 1,)`` CSR row pointers into ``cols``.
        cols: database rows, in any order within a CSR row.
        database: ``(N, d)`` float32.
        database64: :func:`float64_database` of ``database``; None gathers the
            rows instead (:func:`_gathered_products`).

    Returns:
        ``(len(cols),)`` float64, in the order of ``cols``.
    """
    if database64 is None:
        return _gathered_products(left, crow, cols, database)
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter('ignore', UserWarning)
        pattern = torch.sparse_csr_tensor(
            torch.from_numpy(np.ascontiguousarray(crow, dtype=np.int64)),
            torch.from_numpy(np.ascontiguousarray(cols, dtype=np.int64)),
            torch.zeros(len(cols), dtype=torch.float64),
            size=(len(left), len(database64)), check_invariants=False)
        products = torch.sparse.sampled_addmm(
            pattern, torch.from_numpy(left).double(), database64.T, beta=0.0)
    return products.values().numpy()


def _gathered_products(left: np.ndarray, crow: np.ndarray, cols: np.ndarray,
                       database: np.ndarray) -> np.ndarray:
    """:func:`_pair_products` by gathering both rows of each pair, in chunks of
    :data:`GATHER_ELEMENTS` values on the threads (memory stays bounded)."""
    entry_rows = np.repeat(np.arange(len(left)), np.diff(crow))
    out = np.empty(len(cols))
    step = max(1, GATHER_ELEMENTS // max(1, database.shape[1]))

    def products_of(start: int) -> None:
        stop = start + step
        out[start:stop] = np.einsum('ij,ij->i', left[entry_rows[start:stop]],
                                    database[cols[start:stop]], dtype=np.float64)

    map_chunks(products_of, range(0, len(cols), step))
    return out


def pair_similarities(queries: np.ndarray, database: np.ndarray,
                      rows: np.ndarray, cols: np.ndarray,
                      database64: Optional[torch.Tensor] = None) -> np.ndarray:
    """Canonical similarities ``float32(<q_rows, x_cols>)``, accumulated in float64.

    The one definition of ``s_ij`` (Eq. 7) that all of :mod:`mmssl.labels` uses, so
    that the sparse path and the dense reference agree to the bit, ties included
    (products of float32 numbers are exact in float64, so the summation order only
    moves the float64 sum by ~1e-17, which the rounding to float32 removes).

    Args:
        queries: ``(Q, d)`` float32 (as :func:`check_features` returns them).
        database: ``(N, d)`` float32.
        rows: int array of query rows, any shape.
        cols: int array of database rows, same shape as ``rows``.
        database64: optional :func:`float64_database` of ``database``, for callers
            that compute many batches of pairs; when None, made here for at least
            as many pairs as ``database`` has rows, else the rows are gathered.

    Returns:
        float32 array of the shape of ``rows``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    if rows.shape != cols.shape:
        raise ValueError(f'rows {rows.shape} and cols {cols.shape} differ in shape')
    out = np.empty(rows.shape, dtype=np.float32)
    flat_rows, flat_cols = rows.ravel(), cols.ravel()
    order = None
    if flat_rows.size > 1 and (flat_rows[1:] < flat_rows[:-1]).any():
        order = np.argsort(flat_rows, kind='stable')
        flat_rows, flat_cols = flat_rows[order], flat_cols[order]
    if database64 is None:
        database64 = _copy_for(database, flat_rows.size)
    sims = np.empty(flat_rows.size, dtype=np.float32)
    for start in range(0, flat_rows.size, PAIR_CHUNK):
        chunk_rows = flat_rows[start:start + PAIR_CHUNK]
        firsts = np.flatnonzero(np.r_[True, chunk_rows[1:] != chunk_rows[:-1]])
        sims[start:start + PAIR_CHUNK] = _pair_products(
            queries[chunk_rows[firsts]], np.r_[firsts, len(chunk_rows)],
            flat_cols[start:start + PAIR_CHUNK], database, database64)
    if order is None:
        out.reshape(-1)[:] = sims
    else:
        out.reshape(-1)[order] = sims
    return out


def canonical_top_k(queries: np.ndarray, features: np.ndarray,
                    rows: np.ndarray, candidates: np.ndarray, k: int,
                    database64: Optional[torch.Tensor] = None
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Canonical similarities of the candidates, sorted, cut to ``k`` per row.

    Order: descending similarity, then ascending index; missing candidates (-1)
    come last with similarity ``-inf``.

    Args:
        queries: ``(Q, d)`` float32 query rows.
        features: ``(N, d)`` float32 database rows.
        rows: which queries (indices into ``queries``) the candidate rows belong to.
        candidates: ``(len(rows), m)`` database indices, ``-1`` = none; no index may
            repeat within a row.
        k: places kept per row.
        database64: optional :func:`float64_database` of ``features``; when
            None, as :func:`pair_similarities` does.

    Returns:
        ``(similarities, indices)``, each ``(len(rows), min(k, m))``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    candidates = np.asarray(candidates, dtype=np.int64)
    width = min(k, candidates.shape[1])
    if not len(rows) or not candidates.shape[1]:
        return (np.full((len(rows), width), -np.inf, dtype=np.float32),
                np.full((len(rows), width), -1, dtype=np.int64))
    if database64 is None:
        database64 = _copy_for(features, candidates.size)
    out_sims = np.empty((len(rows), width), dtype=np.float32)
    out_ids = np.empty((len(rows), width), dtype=np.int64)
    step = max(1, PAIR_CHUNK // candidates.shape[1])  # rows per chunk
    for start in range(0, len(rows), step):
        block = candidates[start:start + step]
        valid = block >= 0
        safe = np.where(valid, block, 0)
        sims = _pair_products(
            queries[rows[start:start + step]],
            np.arange(len(block) + 1) * block.shape[1], safe.ravel(), features,
            database64).reshape(block.shape).astype(np.float32)
        sims[~valid] = -np.inf
        ids = np.where(valid, safe, _MISSING)

        def order(lo: int) -> None:
            hi = min(lo + ORDER_ROWS, len(block))
            out_sims[start + lo:start + hi], out_ids[start + lo:start + hi] = \
                _ordered(sims[lo:hi], ids[lo:hi], k)

        map_chunks(order, range(0, len(block), ORDER_ROWS))
    return out_sims, out_ids


def _ordered(sims: np.ndarray, ids: np.ndarray,
             k: int) -> Tuple[np.ndarray, np.ndarray]:
    """The first ``k`` candidates of each row in canonical order (missing: -1)."""
    keys = np.sort(_order_keys(sims, ids), axis=1)[:, :k]
    top_sims, top_ids = _from_order_keys(keys)
    top_ids[np.isneginf(top_sims)] = -1
    return top_sims, top_ids


#: Index stored in an order key for a missing candidate (it sorts last).
_MISSING = (1 << 32) - 1


def _order_keys(sims: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """uint64 keys that sort ascending in canonical order: the high 32 bits rise
    as the float32 similarity falls, the low 32 bits are the index (< 2^32 - 1).

    One ``np.sort`` of the keys replaces two stable argsorts and their gathers.
    ``-0.0`` is keyed as ``+0.0`` (they tie, and the index decides).
    """
    bits = (sims + np.float32(0.0)).view(np.int32).astype(np.int64)
    rising = np.where(bits >= 0, bits, bits ^ 0x7FFFFFFF)  # monotone in the float
    high = (np.int64(0x7FFFFFFF) - rising).astype(np.uint64)
    return (high << np.uint64(32)) | ids.astype(np.uint64)


def _from_order_keys(keys: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``(similarities, indices)`` back from :func:`_order_keys`."""
    rising = np.int64(0x7FFFFFFF) - (keys >> np.uint64(32)).astype(np.int64)
    bits = np.where(rising >= 0, rising, rising ^ 0x7FFFFFFF).astype(np.int32)
    ids = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return bits.view(np.float32), ids
