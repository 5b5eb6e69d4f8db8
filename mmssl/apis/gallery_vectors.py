"""The vector index of a gallery: exact inner product, or HNSW above a size.

Embeddings are L2-normalised, so the inner product is the cosine similarity that
the search protocol ranks by (:func:`mmssl.apis.rank_by_similarity`). Up to
``approximate_above`` rows (a million by default) the index is faiss's exact
``IndexFlatIP``: one query reads every row, ~43 ms per query at a million 256-d rows
on one core here (``docs/benchmarks.md``). Above it, an HNSW graph
(:func:`mmssl.labels.approximate_index.build_approximate_index`, inner product)
answers in about a millisecond and misses a few true neighbours; its recall@10
against exact search is measured by ``benchmarks/bench_gallery_index.py``. The
choice is automatic (``index_type='auto'``) and can be forced (``'exact'``,
``'hnsw'``). Plain numpy and faiss, no mmdet.
"""
from dataclasses import asdict, dataclass
from typing import Tuple

import numpy as np

from mmssl.labels.approximate_index import build_approximate_index

INDEX_TYPES = ('auto', 'exact', 'hnsw')


@dataclass
class VectorIndexSettings:
    """How a gallery's vectors are indexed.

    Attributes:
        index_type: ``'auto'`` (exact up to ``approximate_above`` rows, HNSW
            above), ``'exact'`` or ``'hnsw'``.
        approximate_above: the row count above which ``'auto'`` turns to HNSW.
        hnsw_m: HNSW neighbours per node.
        ef_construction: HNSW build breadth.
        ef_search: HNSW search breadth (larger: higher recall, slower).
    """
    index_type: str = 'auto'
    approximate_above: int = 1_000_000
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 256

    def __post_init__(self) -> None:
        if self.index_type not in INDEX_TYPES:
            raise ValueError(f'index_type must be one of {INDEX_TYPES}, got '
                             f'{self.index_type!r}')
        for name in ('approximate_above', 'hnsw_m', 'ef_construction', 'ef_search'):
            if int(getattr(self, name)) < 1:
                raise ValueError(f'{name} must be >= 1, got {getattr(self, name)}')

    def as_dict(self) -> dict:
        """The settings as a plain dict (for the index metadata)."""
        return asdict(self)

    def kind_for(self, num_rows: int) -> str:
        """``'exact'`` or ``'hnsw'``: the index wanted for ``num_rows`` rows."""
        if self.index_type == 'auto':
            return 'hnsw' if num_rows > self.approximate_above else 'exact'
        return self.index_type


def index_kind(index) -> str:
    """``'exact'`` for a flat inner-product index, ``'hnsw'`` for HNSW-Flat."""
    import faiss
    if isinstance(index, faiss.IndexHNSW):
        return 'hnsw'
    if isinstance(index, faiss.IndexFlat):
        return 'exact'
    raise ValueError(f'unexpected faiss index type {type(index).__name__}')


def empty_index(dim: int):
    """An empty exact inner-product index of ``dim``-d vectors."""
    import faiss
    return faiss.IndexFlatIP(int(dim))


def all_vectors(index) -> np.ndarray:
    """Every stored vector, ``(ntotal, d)`` float32, in row order."""
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_n(0, index.ntotal)


def _convert(index, kind: str, settings: VectorIndexSettings, extra: np.ndarray):
    vectors = np.concatenate([all_vectors(index), extra]) if len(extra) else \
        all_vectors(index)
    if kind == 'exact':
        flat = empty_index(index.d)
        flat.add(vectors)
        return flat
    return build_approximate_index(vectors, 'hnsw', hnsw_m=settings.hnsw_m,
                                   ef_construction=settings.ef_construction,
                                   ef_search=settings.ef_search)


def add_vectors(index, vectors: np.ndarray, settings: VectorIndexSettings):
    """Add rows; the index is rebuilt as HNSW (or exact) when its size or the
    settings ask for the other kind. Returns the index holding every row."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, index.d)
    kind = settings.kind_for(index.ntotal + len(vectors))
    if kind != index_kind(index) and index.ntotal + len(vectors) > 0:
        return _convert(index, kind, settings, vectors)
    if len(vectors):
        index.add(vectors)
    return index


def apply_search_settings(index, settings: VectorIndexSettings):
    """Set the search breadth of an HNSW index; returns the index."""
    if index_kind(index) == 'hnsw':
        index.hnsw.efSearch = int(settings.ef_search)
    return index


def search_vectors(index, query: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows most similar to one ``(d,)`` query.

    Returns:
        ``(similarities, rows)``, most similar first; fewer than ``k`` when the
        index holds fewer rows (faiss's ``-1`` places are dropped).
    """
    query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
    if query.shape[1] != index.d:
        raise ValueError(f'query feature of size {query.shape[1]} for a gallery of '
                         f'{index.d}-d embeddings')
    k = min(int(k), index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    sims, rows = index.search(query, k)
    keep = rows[0] >= 0
    return sims[0][keep], rows[0][keep].astype(np.int64)
