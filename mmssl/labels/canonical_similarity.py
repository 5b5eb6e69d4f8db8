"""The canonical similarity of :mod:`mmssl.labels`: rows checked once, ``s_ij`` and
the order of neighbours defined once.

``s_ij`` (Eq. 7) is the float64 dot product of the float32 rows, rounded to float32
(:func:`pair_similarities`); neighbours are ordered by descending ``s_ij``, ties by
the smaller index (:func:`canonical_top_k`). The sparse path and the dense
reference (:mod:`.dense_reference`) both use these definitions, so they agree to the
bit, exact ties included.
"""
from typing import Tuple

import numpy as np

from .chunk_threads import map_chunks

#: Feature values gathered per chunk (1 Mi float32: 4 MiB). Small chunks run on
#: memory the allocator hands back and forth, instead of fresh pages that must be
#: faulted in: a fresh process's first call ran 2x faster with 4 MiB than 16 MiB.
GATHER_ELEMENTS = 1 << 20


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
        queries: ``(Q, d)`` float32 (as :func:`check_features` returns them).
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
    step = max(1, GATHER_ELEMENTS // max(1, queries.shape[1]))
    for start in range(0, flat_rows.size, step):
        stop = start + step
        flat_out[start:stop] = np.einsum(
            'ij,ij->i', queries[flat_rows[start:stop]],
            database[flat_cols[start:stop]], dtype=np.float64)
    return out


def canonical_top_k(queries: np.ndarray, features: np.ndarray,
                    rows: np.ndarray, candidates: np.ndarray,
                    k: int) -> Tuple[np.ndarray, np.ndarray]:
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

    Returns:
        ``(similarities, indices)``, each ``(len(rows), min(k, m))``.
    """
    step = max(1, GATHER_ELEMENTS // max(1, candidates.shape[1] * features.shape[1]))
    chunks = [(start, min(start + step, len(rows)))
              for start in range(0, len(rows), step)]
    done = map_chunks(lambda chunk: _top_k_of_chunk(
        queries, features, rows[chunk[0]:chunk[1]],
        candidates[chunk[0]:chunk[1]], k), chunks)
    width = min(k, candidates.shape[1])
    if not done:
        return (np.empty((0, width), dtype=np.float32),
                np.empty((0, width), dtype=np.int64))
    return (np.concatenate([sims for sims, _ in done]),
            np.concatenate([ids for _, ids in done]))


def _top_k_of_chunk(queries: np.ndarray, features: np.ndarray, rows: np.ndarray,
                    candidates: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """:func:`canonical_top_k` for one chunk of rows."""
    valid = candidates >= 0
    safe = np.where(valid, candidates, 0)
    # same float64 accumulation as pair_similarities, one query per block row
    sims = np.einsum('bd,bmd->bm', queries[rows], np.take(features, safe, axis=0),
                     dtype=np.float64).astype(np.float32)
    sims[~valid] = -np.inf
    keys = np.sort(_order_keys(sims, np.where(valid, safe, _MISSING)),
                   axis=1)[:, :k]
    sims, ids = _from_order_keys(keys)
    ids[np.isneginf(sims)] = -1
    return sims, ids


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
