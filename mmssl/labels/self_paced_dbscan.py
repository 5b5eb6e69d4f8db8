"""DBSCAN on a sparse precomputed distance with SpCL's self-paced reliability criterion.

Three DBSCAN runs (``min_samples=4``) at a tight, normal and loose ``eps`` (0.68, 0.70,
0.72 here, see docs/method.md); outliers become singletons (each its own label).
For sample ``i`` with normal cluster ``N(i)``, tight cluster ``T(i)`` and loose cluster
``L(i)`` (Ge et al., "Self-paced Contrastive Learning", NeurIPS 2020):

* compactness ``R_comp(i) = 1 - |N(i) ∩ T(i)| / |N(i) ∪ T(i)|``;
* independence ``R_indep(i) = 1 - |N(i) ∩ L(i)| / |N(i) ∪ L(i)|``;
* a cluster's score is the minimum over its members; the independence threshold is
  the 90th percentile (SpCL's ``np.round(0.9 n)``-th sorted value) of the scores of
  the clusters with more than one member, fixed at the first epoch: pass it back in
  later epochs.

Sample ``i`` keeps its normal cluster iff its cluster's independence is ``<=`` the
threshold and ``R_comp(i)`` equals its cluster's (minimum) compactness; otherwise it
becomes a singleton. With ``same_image_rule=True`` each of the three labellings first
goes through :func:`~mmssl.labels.same_image_rule.separate_same_image`, as CGPS does.

Everything is computed from label counts (``O(N)``), never from ``N x N`` label
matrices. Each DBSCAN runs on the sparse CSR distance
(:func:`~mmssl.labels.sparse_dbscan.dbscan_labels`, scikit-learn's labels as
connected components): stored entries (explicit zeros included) are the candidate
neighbours, absent ones are "farther than any eps".
"""
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import scipy.sparse as sp

from .neighbour_search import SearchOrFeatures, as_search
from .same_image_rule import separate_same_image
from .sparse_dbscan import NeighbourGraph

DEFAULT_EPS = (0.68, 0.70, 0.72)


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber a labelling ``0, 1, ...`` in order of first appearance.

    Two labellings describe the same partition iff their canonical forms are equal.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        return labels.astype(np.int64)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse.ravel()]


def outliers_to_singletons(labels: np.ndarray) -> np.ndarray:
    """Give the k-th outlier (``-1``, index order) the label ``num_clusters + k``."""
    labels = np.asarray(labels, dtype=np.int64).copy()
    outliers = labels < 0
    num_clusters = len(np.unique(labels[~outliers]))
    labels[outliers] = num_clusters + np.arange(int(outliers.sum()))
    return labels


def _overlap_scores(labels: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``1 - |C(i) ∩ C'(i)| / |C(i) ∪ C'(i)|`` for every ``i``, from counts."""
    _, pair_index, pair_count = np.unique(
        labels * (other.max() + 1) + other, return_inverse=True, return_counts=True)
    inter = pair_count[pair_index.ravel()]
    union = np.bincount(labels)[labels] + np.bincount(other)[other] - inter
    return 1 - inter / union


@dataclass
class SelfPacedClusters:
    """Result of :func:`self_paced_clustering`.

    Attributes:
        labels: ``(N,)`` int64 labels, canonical form (:func:`canonical_labels`);
            every sample has a label (singletons included).
        independence_threshold: the threshold used (keep it for later epochs);
            None when no cluster had more than one member.
        num_clusters: labels with at least two members.
        num_singletons: samples alone in their label (un-clustered).
    """

    labels: np.ndarray
    independence_threshold: Optional[float]
    num_clusters: int
    num_singletons: int


def self_paced_clustering(distance: sp.csr_matrix,
                          eps: Sequence[float] = DEFAULT_EPS,
                          min_samples: int = 4,
                          independence_threshold: Optional[float] = None,
                          *,
                          features: Optional[SearchOrFeatures] = None,
                          image_ids: Optional[np.ndarray] = None,
                          same_image_rule: bool = False) -> SelfPacedClusters:
    """Self-paced DBSCAN clustering (SpCL's reliability criterion).

    Args:
        distance: ``(N, N)`` sparse precomputed distance (e.g.
            :func:`~mmssl.labels.jaccard_distance.k_reciprocal_jaccard_distance`
            with ``cutoff > max(eps)``).
        eps: the three radii; sorted into tight, normal, loose.
        min_samples: DBSCAN ``min_samples``.
        independence_threshold: threshold from the first epoch; None computes it
            from this clustering.
        features: ``(N, d)`` rows (or a
            :class:`~mmssl.labels.neighbour_search.NeighbourSearch` over them),
            needed by the same-image rule.
        image_ids: ``(N,)`` images, needed by the same-image rule.
        same_image_rule: apply CGPS's rule to each labelling.

    Returns:
        :class:`SelfPacedClusters`.
    """
    if len(eps) != 3:
        raise ValueError(f'eps must hold three radii (tight, normal, loose), got '
                         f'{eps}')
    if same_image_rule and (features is None or image_ids is None):
        raise ValueError('same_image_rule=True needs features and image_ids')
    if same_image_rule:
        features = as_search(features)  # validated once for the three labellings
    eps_tight, eps_normal, eps_loose = sorted(eps)
    graph = NeighbourGraph(distance)  # checked once for the three radii
    labelings = []
    for value in (eps_normal, eps_tight, eps_loose):
        labels = outliers_to_singletons(graph.dbscan(value, min_samples))
        if same_image_rule:
            labels = separate_same_image(labels, features, image_ids)
        labelings.append(labels)
    normal, tight, loose = labelings

    compactness = _overlap_scores(normal, tight)
    independence = _overlap_scores(normal, loose)
    num_labels = int(normal.max()) + 1
    cluster_compactness = np.full(num_labels, np.inf)
    np.minimum.at(cluster_compactness, normal, compactness)
    cluster_independence = np.full(num_labels, np.inf)
    np.minimum.at(cluster_independence, normal, independence)
    sizes = np.bincount(normal, minlength=num_labels)

    present = sizes > 0
    scored = np.sort(cluster_independence[present & (sizes > 1)])
    if independence_threshold is None and scored.size:
        position = min(scored.size - 1, int(np.round(scored.size * 0.9)))
        independence_threshold = float(scored[position])

    independent = (np.ones(len(normal), dtype=bool)
                   if independence_threshold is None else
                   cluster_independence[normal] <= independence_threshold)
    keep = independent & (compactness <= cluster_compactness[normal])
    labels = normal.copy()
    expelled = np.flatnonzero(~keep)
    labels[expelled] = int(present.sum()) + np.arange(len(expelled))
    labels = canonical_labels(labels)
    counts = np.bincount(labels)
    return SelfPacedClusters(labels=labels,
                             independence_threshold=independence_threshold,
                             num_clusters=int((counts > 1).sum()),
                             num_singletons=int((counts == 1).sum()))
