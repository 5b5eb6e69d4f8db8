"""Approximate neighbour indexes (faiss HNSW, IVF-Flat) for very large N; their recall.

Exact search costs ``N^2 d`` multiply-adds: fine for PRW (18k boxes) and CUHK-SYSU
(55k), too slow for a million. HNSW walks a navigable small-world graph; IVF-Flat
clusters the rows into ``nlist`` inverted lists with k-means and scans the ``nprobe``
lists nearest to a query. Both miss some true neighbours: :func:`knn_recall` and
:func:`range_recall` measure how many, against exact search on a sample of queries.

Measured here on 2 shared cores, self-search of clustered synthetic rows
(:func:`~mmssl.labels.synthetic_features.make_clustered_bank`, ``k=30``; recall of all
30 / of the neighbours with similarity >= 0.45, the ones the labels use):

* 40,000 rows, HNSW ``M=16, efConstruction=40, efSearch=64``: 24 s, 0.64 / 0.91;
* 40,000 rows, HNSW ``M=32, efConstruction=80, efSearch=96``: 52 s, 0.87 / 1.00;
* 200,000 rows, HNSW ``M=32, efConstruction=80, efSearch=64`` (the defaults), one
  thread: build 118 s, search 81 s, 0.65 / 0.97 (0.98 for similarity >= 0.7);
* IVF-Flat ``nlist=400, nprobe=16`` at 40,000 rows: recall 0.51 on all 30, and faiss
  scans one stored vector at a time per query (~300 ns each here), which at a million
  rows costs about 20 minutes; HNSW scales as ``N log N`` instead. Partitions fit
  this data badly: at 200,000 rows with 1,024 k-means cells, putting every row in its
  16 nearest cells still missed 4% of the pairs with similarity >= 0.45 while costing
  half of an exact search.

Starting each row's self-search at its own level-0 node (faiss ``search_level_0``)
instead of HNSW's top-down descent was tried at a million rows: faster (955 s against
1,087 s for the whole label step) but, followed by
:func:`~mmssl.labels.knn_refinement.refine_knn`, it found fewer multi-label positives
(0.71 against 0.77), so the descent stays.

The exact top 30 beyond a row's few true matches are near-ties of unrelated rows, so
"recall of all 30" understates what matters; the benchmark reports both.

The index is used through :class:`mmssl.labels.neighbour_search.NeighbourSearch`
(or ``knn_search`` / ``range_search``) with ``index=``, which re-score the candidates
canonically.
"""
from typing import Optional

import faiss
import numpy as np
import scipy.sparse as sp

from .neighbour_search import NeighbourSearch, SearchOrFeatures, as_search

APPROXIMATE_METHODS = ('ivf', 'hnsw')


def default_nlist(num_samples: int) -> int:
    """faiss's rule of thumb: about ``4 sqrt(N)`` lists, at least 1."""
    return int(max(1, min(num_samples // 39, round(4 * np.sqrt(num_samples)))))


def build_approximate_index(features: SearchOrFeatures,
                            method: str = 'ivf',
                            *,
                            nlist: Optional[int] = None,
                            nprobe: Optional[int] = None,
                            train_size: Optional[int] = None,
                            hnsw_m: int = 32,
                            ef_construction: int = 80,
                            ef_search: int = 64,
                            seed: int = 0):
    """Build an inner-product faiss index over ``features``.

    Args:
        features: ``(N, d)`` L2-normalised float32 rows, or a
            :class:`NeighbourSearch` over them.
        method: ``'ivf'`` (IVF-Flat) or ``'hnsw'`` (HNSW-Flat).
        nlist: IVF lists (default :func:`default_nlist`).
        nprobe: IVF lists scanned per query (default ``min(nlist, 32)``).
        train_size: rows sampled to train the IVF quantiser (default
            ``min(N, 40 * nlist)``, just above faiss's 39 points per centroid).
        hnsw_m: HNSW neighbours per node.
        ef_construction: HNSW build breadth.
        ef_search: HNSW search breadth.
        seed: seed of the training sample.

    Returns:
        The faiss index, with every row of ``features`` added (row ``i`` has id
        ``i``).

    Raises:
        ValueError: unknown method.
    """
    if method not in APPROXIMATE_METHODS:
        raise ValueError(f'unknown approximate method {method!r}; expected one of '
                         f'{APPROXIMATE_METHODS}')
    features = as_search(features).features
    num, dim = features.shape
    if method == 'hnsw':
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
        index.add(features)
        return index

    nlist = default_nlist(num) if nlist is None else int(nlist)
    nprobe = min(nlist, 32) if nprobe is None else int(nprobe)
    quantiser = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantiser, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    train_size = min(num, 40 * nlist if train_size is None else train_size)
    sample = np.random.default_rng(seed).choice(num, train_size, replace=False)
    index.train(features[np.sort(sample)])
    index.add(features)
    index.nprobe = nprobe  # faiss's wrapper keeps the quantiser alive
    return index


def _sample_rows(num: int, sample_size: int, seed: int) -> np.ndarray:
    if sample_size >= num:
        return np.arange(num)
    return np.sort(np.random.default_rng(seed).choice(num, sample_size,
                                                      replace=False))


def knn_recall(features: SearchOrFeatures,
               approximate_indices: np.ndarray,
               *,
               sample_size: int = 1000,
               seed: int = 0,
               backend: str = 'auto') -> float:
    """Recall of an approximate kNN result against exact search, on a sample.

    Args:
        features: ``(N, d)`` rows the approximate search was run on (queries were
            the rows themselves), or a :class:`NeighbourSearch` over them.
        approximate_indices: ``(N, k)`` approximate neighbour indices (``-1`` for
            missing places).
        sample_size: number of query rows checked.
        seed: seed of the sample.
        backend: ``'auto'`` or ``'torch'``.

    Returns:
        Fraction of the exact top-k neighbours of the sampled rows that the
        approximate top-k holds.
    """
    search = NeighbourSearch(as_search(features, backend))  # exact, same rows
    approximate_indices = np.asarray(approximate_indices)
    k = approximate_indices.shape[1]
    rows = _sample_rows(search.features.shape[0], sample_size, seed)
    _, exact = search.knn(k, search.features[rows])
    hits = sum(np.intersect1d(exact[n], approximate_indices[row]).size
               for n, row in enumerate(rows))
    return float(hits / exact.size)


def range_recall(features: SearchOrFeatures,
                 approximate: sp.csr_matrix,
                 threshold: float,
                 *,
                 sample_size: int = 1000,
                 seed: int = 0,
                 backend: str = 'auto') -> float:
    """Recall of an approximate range-search result against exact search.

    Args:
        features: ``(N, d)`` rows (queries were the rows themselves), or a
            :class:`NeighbourSearch` over them.
        approximate: ``(N, N)`` CSR of the pairs found approximately.
        threshold: the similarity threshold that was searched.
        sample_size: number of query rows checked.
        seed: seed of the sample.
        backend: ``'auto'`` or ``'torch'``.

    Returns:
        Fraction of the exact pairs of the sampled rows that were found (1.0 when the
        sample has no pair at all).
    """
    search = NeighbourSearch(as_search(features, backend))  # exact, same rows
    rows = _sample_rows(search.features.shape[0], sample_size, seed)
    exact = search.range(threshold, search.features[rows])
    found = approximate.tocsr()[rows]
    if exact.nnz == 0:
        return 1.0
    exact_pattern = exact.copy()
    exact_pattern.data = np.ones_like(exact_pattern.data)
    found_pattern = found.copy()
    found_pattern.data = np.ones_like(found_pattern.data)
    return float(exact_pattern.multiply(found_pattern).nnz / exact.nnz)
