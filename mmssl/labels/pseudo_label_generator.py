"""One call that turns the memory bank into this epoch's pseudo labels.

``generate_pseudo_labels`` is what the pseudo-label hook calls once per epoch on
``M = mean(M_I, M_M)`` (Eq. 6):

1. neighbours: one exact kNN pass (``k1`` neighbours) shared by both label kinds, or
   an approximate search for very large N, refined by its neighbours' neighbours;
2. dynamic multi-labels: ``t`` of Eq. 9, candidates of Eq. 8 read off the kNN lists
   (a range search only for rows with ``k1`` or more candidates), the exclusion walk
   of Eq. 10;
3. k-reciprocal Jaccard distance, sparse, every pair up to the loosest ``eps`` (with
   an approximate search: the kNN pairs, see
   :func:`~mmssl.labels.jaccard_distance.neighbour_pair_overlaps`);
4. self-paced DBSCAN (tight/normal/loose ``eps``), outliers as singletons, optionally
   CGPS's same-image rule.

The features are validated once, into a
:class:`~mmssl.labels.neighbour_search.NeighbourSearch` that every step receives.
Nothing is ``N x N``; memory grows with ``N * k1``.
"""
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import scipy.sparse as sp

from .approximate_index import (APPROXIMATE_METHODS, build_approximate_index,
                                knn_recall)
from .dynamic_threshold import dynamic_threshold
from .jaccard_distance import k_reciprocal_jaccard_distance
from .knn_refinement import refine_knn
from .multi_labels import check_image_ids, exclusive_multilabels
from .neighbour_search import NeighbourSearch, check_backend
from .self_paced_dbscan import DEFAULT_EPS, self_paced_clustering

#: ``search='auto'`` switches to an approximate index above this many samples.
APPROXIMATE_ABOVE = 200_000

SEARCH_METHODS = ('auto', 'exact') + APPROXIMATE_METHODS


@dataclass
class PseudoLabels:
    """Pseudo labels of one epoch.

    Attributes:
        cluster_labels: ``(N,)`` int64 cluster label per sample, ``0..C-1`` in order
            of first appearance; un-clustered samples are singletons.
        multilabels: ``(N, N)`` float32 CSR, ``Y_ij = 1`` for the positives of
            ``i`` (self included), int64 ``indptr``/``indices``.
        threshold: ``t`` of Eq. 9 used for the multi-labels.
        independence_threshold: the self-paced threshold used (keep it and pass it
            back in later epochs); None when no cluster had two members.
        num_clusters: clusters with at least two members.
        num_singletons: un-clustered samples.
        num_multilabel_pairs: positive pairs ``(i, j)``, ``i != j``.
        search: ``'exact'``, ``'ivf'`` or ``'hnsw'``.
        neighbour_recall: kNN recall of the approximate search on a sample (None
            for exact search or when not measured).
        timings: seconds per step: ``knn`` (index build included), ``multilabels``,
            ``jaccard``, ``dbscan``, ``recall`` (when measured) and ``total``.
    """

    cluster_labels: np.ndarray
    multilabels: sp.csr_matrix
    threshold: float
    independence_threshold: Optional[float]
    num_clusters: int
    num_singletons: int
    num_multilabel_pairs: int
    search: str
    neighbour_recall: Optional[float] = None
    timings: Dict[str, float] = field(default_factory=dict)

    @property
    def multilabel_indptr(self) -> np.ndarray:
        """``(N + 1,)`` int64 CSR row pointer of :attr:`multilabels`."""
        return self.multilabels.indptr.astype(np.int64)

    @property
    def multilabel_indices(self) -> np.ndarray:
        """``(nnz,)`` int64 CSR column indices of :attr:`multilabels`."""
        return self.multilabels.indices.astype(np.int64)


def generate_pseudo_labels(features: np.ndarray,
                           image_ids: np.ndarray,
                           epoch: float,
                           *,
                           t_s: float = 0.6,
                           alpha: float = 0.1,
                           beta: float = -0.1,
                           k1: int = 30,
                           k2: int = 6,
                           eps: Sequence[float] = DEFAULT_EPS,
                           min_samples: int = 4,
                           independence_threshold: Optional[float] = None,
                           same_image_rule: bool = False,
                           search: str = 'auto',
                           backend: str = 'auto',
                           index_options: Optional[dict] = None,
                           refine_rounds: int = 1,
                           recall_sample: int = 0,
                           step_callback: Optional[Callable[[str, float],
                                                            None]] = None
                           ) -> PseudoLabels:
    """Cluster labels and dynamic multi-labels for one epoch.

    Args:
        features: ``(N, d)`` L2-normalised float32 memory rows (Eq. 6).
        image_ids: ``(N,)`` image of each sample.
        epoch: current epoch ``e`` of Eq. 9.
        t_s: Eq. 9 ``t_s``.
        alpha: Eq. 9 ``alpha``.
        beta: Eq. 9 ``beta``.
        k1: Jaccard ``k1`` (also the kNN list length).
        k2: Jaccard ``k2``.
        eps: tight/normal/loose DBSCAN radii, each ``< 1``.
        min_samples: DBSCAN ``min_samples``.
        independence_threshold: self-paced threshold of the first epoch; None
            computes it (do that at the first epoch only, as SpCL does).
        same_image_rule: apply CGPS's same-image rule to the clusters.
        search: ``'exact'``, faiss's ``'hnsw'`` or ``'ivf'`` (IVF-Flat), or
            ``'auto'``: exact up to :data:`APPROXIMATE_ABOVE` samples, HNSW above
            (faiss's IVF-Flat scans one vector at a time per query, too slow for a
            self-search of 10^6 rows here; see :mod:`.approximate_index`).
        backend: ``'auto'`` or ``'torch'`` (exact search runs on torch, see
            :mod:`.neighbour_search`).
        index_options: keyword arguments of
            :func:`~mmssl.labels.approximate_index.build_approximate_index`.
        refine_rounds: with an approximate search, rounds of
            :func:`~mmssl.labels.knn_refinement.refine_knn` (neighbours of
            neighbours re-scored exactly) run on its kNN lists.
        recall_sample: with an approximate search, measure its kNN recall against
            exact search on this many rows (0: do not measure).
        step_callback: called as ``step_callback(name, seconds)`` when each step
            ends (``knn``, ``multilabels``, ``jaccard``, ``dbscan``, ``recall``),
            e.g. to log progress or sample memory.

    Returns:
        :class:`PseudoLabels`.
    """
    start = time.perf_counter()
    neighbours = NeighbourSearch(features)  # the one check of the features
    num = neighbours.features.shape[0]
    image_ids = check_image_ids(image_ids, num)
    check_backend(backend)
    if search not in SEARCH_METHODS:
        raise ValueError(f'unknown search {search!r}; expected one of '
                         f'{SEARCH_METHODS}')
    if len(eps) != 3 or not all(0 < e < 1 for e in eps):
        raise ValueError(f'eps must be three radii in (0, 1), got {eps}')
    if search == 'auto':
        search = 'exact' if num <= APPROXIMATE_ABOVE else 'hnsw'
    threshold = dynamic_threshold(epoch, t_s, alpha, beta)
    timings = {}

    def finish(name: str, tick: float) -> None:
        timings[name] = time.perf_counter() - tick
        if step_callback is not None:
            step_callback(name, timings[name])

    tick = time.perf_counter()
    if search != 'exact':
        neighbours = NeighbourSearch(neighbours, index=build_approximate_index(
            neighbours, search, **(index_options or {})))
    knn = neighbours.knn(k1)
    if neighbours.approximate:
        for _ in range(refine_rounds):
            knn = refine_knn(neighbours, knn)
    finish('knn', tick)

    tick = time.perf_counter()
    multilabels = exclusive_multilabels(neighbours.range_from_knn(threshold, knn),
                                        image_ids)
    finish('multilabels', tick)

    tick = time.perf_counter()
    distance = k_reciprocal_jaccard_distance(
        neighbours, k1, k2, knn=knn, cutoff=float(np.nextafter(max(eps), 2.0)),
        pairs='knn' if neighbours.approximate else 'all')
    finish('jaccard', tick)

    tick = time.perf_counter()
    clusters = self_paced_clustering(distance, eps, min_samples,
                                     independence_threshold, features=neighbours,
                                     image_ids=image_ids,
                                     same_image_rule=same_image_rule)
    finish('dbscan', tick)

    recall = None
    if neighbours.approximate and recall_sample > 0:
        tick = time.perf_counter()
        recall = knn_recall(neighbours, knn[1], sample_size=recall_sample)
        finish('recall', tick)
    timings['total'] = time.perf_counter() - start
    return PseudoLabels(cluster_labels=clusters.labels,
                        multilabels=multilabels,
                        threshold=threshold,
                        independence_threshold=clusters.independence_threshold,
                        num_clusters=clusters.num_clusters,
                        num_singletons=clusters.num_singletons,
                        num_multilabel_pairs=int(multilabels.nnz - num),
                        search=search,
                        neighbour_recall=recall,
                        timings=timings)
