"""Dense reference implementations: literal ``N x N`` transcriptions, for checks.

These follow the code every existing weakly supervised person-search codebase runs
(SpCL's ``compute_jaccard_distance`` and self-paced criterion, CGPS's same-image rule)
loop for loop, with full ``N x N`` arrays. They exist so that tests and
``benchmarks/bench_pseudo_labels.py`` can check that the sparse path of
:mod:`mmssl.labels` computes the same thing; they cost ``O(N^2)`` memory (about
``3 * 8 N^2`` bytes at the peak), so keep ``N`` to a few tens of thousands.

Deliberate, documented differences from the originals, shared with the sparse path:
similarities are :func:`~mmssl.labels.canonical_similarity.pair_similarities` (float64
sums rounded to float32) and ranks break ties by index; weights and distances are
float64 (SpCL: float32); the softmax subtracts the row minimum of the distances.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from .canonical_similarity import check_features
from .self_paced_dbscan import canonical_labels


def dense_similarity(features: np.ndarray) -> np.ndarray:
    """``S = M M^T`` (Eq. 7), float64 products rounded to float32, ``(N, N)``."""
    features = check_features(features).astype(np.float64)
    return (features @ features.T).astype(np.float32)


def dense_knn_ranks(similarity: np.ndarray, k: int) -> np.ndarray:
    """First ``k`` columns of a stable descending ``argsort`` of each row."""
    return np.argsort(-similarity, axis=1, kind='stable')[:, :k]


def _k_reciprocal_neigh(initial_rank: np.ndarray, i: int, k1: int) -> np.ndarray:
    forward_k_neigh_index = initial_rank[i, :k1 + 1]
    backward_k_neigh_index = initial_rank[forward_k_neigh_index, :k1 + 1]
    fi = np.where(backward_k_neigh_index == i)[0]
    return forward_k_neigh_index[fi]


def dense_expanded_sets(initial_rank: np.ndarray, k1: int) -> list:
    """SpCL's expanded k-reciprocal sets ``E(i)``, literally: one sorted index
    array per row of ``initial_rank`` (its kNN ranks)."""
    num = initial_rank.shape[0]
    nn_k1 = []
    nn_k1_half = []
    for i in range(num):
        nn_k1.append(_k_reciprocal_neigh(initial_rank, i, k1))
        nn_k1_half.append(_k_reciprocal_neigh(initial_rank, i,
                                              int(np.around(k1 / 2))))
    expanded = []
    for i in range(num):
        k_reciprocal_index = nn_k1[i]
        k_reciprocal_expansion_index = k_reciprocal_index
        for candidate in k_reciprocal_index:
            candidate_k_reciprocal_index = nn_k1_half[candidate]
            if len(np.intersect1d(candidate_k_reciprocal_index,
                                  k_reciprocal_index)) > 2 / 3 * len(
                                      candidate_k_reciprocal_index):
                k_reciprocal_expansion_index = np.append(
                    k_reciprocal_expansion_index, candidate_k_reciprocal_index)
        expanded.append(np.unique(k_reciprocal_expansion_index))
    return expanded


def dense_overlap_distance(V: np.ndarray) -> np.ndarray:
    """SpCL's last step, literally: ``d_ij = 1 - m_ij / (2 - m_ij)`` with
    ``m_ij = sum_k min(V_ik, V_jk)`` through an inverted index, clipped at 0, in
    ``V``'s dtype."""
    num = V.shape[0]
    invIndex = []
    for i in range(num):
        invIndex.append(np.where(V[:, i] != 0)[0])

    jaccard_dist = np.zeros((num, num), dtype=V.dtype)
    for i in range(num):
        temp_min = np.zeros((1, num), dtype=V.dtype)
        indNonZero = np.where(V[i, :] != 0)[0]
        indImages = [invIndex[ind] for ind in indNonZero]
        for j in range(len(indNonZero)):
            temp_min[0, indImages[j]] = temp_min[0, indImages[j]] + np.minimum(
                V[i, indNonZero[j]], V[indImages[j], indNonZero[j]])
        jaccard_dist[i] = 1 - temp_min / (2 - temp_min)
    del invIndex

    jaccard_dist[jaccard_dist < 0] = 0.0
    return jaccard_dist


def dense_jaccard_distance(features: np.ndarray, k1: int = 30,
                           k2: int = 6) -> np.ndarray:
    """SpCL's ``compute_jaccard_distance``, literally, as a dense ``(N, N)`` array.

    The search returns ``k1`` neighbours per row (self included), exactly as SpCL's
    ``index.search(features, k1)``.
    """
    similarity = dense_similarity(features)
    num = similarity.shape[0]
    initial_rank = dense_knn_ranks(similarity, min(k1, num))

    V = np.zeros((num, num), dtype=np.float64)
    for i, k_reciprocal_expansion_index in enumerate(
            dense_expanded_sets(initial_rank, k1)):
        dist = 2 - 2 * similarity[i, k_reciprocal_expansion_index].astype(
            np.float64)
        weights = np.exp(-(dist - dist.min()))
        V[i, k_reciprocal_expansion_index] = weights / weights.sum()
    del similarity

    if k2 != 1:
        V_qe = np.zeros_like(V)
        for i in range(num):
            V_qe[i, :] = np.mean(V[initial_rank[i, :k2], :], axis=0)
        V = V_qe
        del V_qe
    return dense_overlap_distance(V)


def dense_multilabels(features: np.ndarray, image_ids: np.ndarray,
                      threshold: float) -> np.ndarray:
    """Eq. 8 + Eq. 10 as a literal walk, ``(N, N)`` bool ``Y``.

    For each ``i``: candidates ``P_i = {j : s_ij >= t}``; walk ``i`` first, then
    ``P_i`` by descending similarity (ties: ascending index); accept a candidate
    unless rejected, and on accepting ``j`` reject every other box of ``j``'s image.
    """
    similarity = dense_similarity(features)
    num = similarity.shape[0]
    image_ids = np.asarray(image_ids)
    boxes_of_image = {}
    for box, image in enumerate(image_ids.tolist()):
        boxes_of_image.setdefault(image, []).append(box)
    labels = np.zeros((num, num), dtype=bool)
    for i in range(num):
        positives = np.flatnonzero(similarity[i] >= threshold)
        walk = positives[np.argsort(-similarity[i, positives], kind='stable')]
        rejected = set()
        for j in [i] + [j for j in walk.tolist() if j != i]:
            if j in rejected:
                continue
            labels[i, j] = True
            rejected.update(b for b in boxes_of_image[image_ids[j]] if b != j)
    return labels


def dense_dbscan(distance: np.ndarray, eps: float,
                 min_samples: int = 4) -> np.ndarray:
    """scikit-learn DBSCAN on a dense precomputed distance, outliers ``-1``."""
    from sklearn.cluster import DBSCAN  # noqa: PLC0415
    return DBSCAN(eps=eps, min_samples=min_samples,
                  metric='precomputed').fit_predict(distance)


def _dense_outliers_to_singletons(labels: np.ndarray) -> np.ndarray:
    """SpCL's ``generate_pseudo_labels``: the k-th outlier gets ``num_ids + k``."""
    num_ids = len(set(labels.tolist())) - (1 if -1 in labels else 0)
    out, outliers = [], 0
    for label in labels.tolist():
        if label != -1:
            out.append(label)
        else:
            out.append(num_ids + outliers)
            outliers += 1
    return np.asarray(out, dtype=np.int64)


def dense_separate_same_image(labels: np.ndarray, features: np.ndarray,
                              image_ids: np.ndarray) -> np.ndarray:
    """CGPS's ``process_label_with_context``, literally (images in sorted order).

    In each image, boxes sharing a cluster keep it only for the one most similar to
    the cluster's centre (the mean of its members' features, before this step); the
    others become singletons.
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    features = check_features(features).astype(np.float64)
    image_ids = np.asarray(image_ids)
    num_classes = int(labels.max()) + 1
    centers = np.stack([features[labels == c].mean(axis=0)
                        for c in range(num_classes)])
    for uid in sorted(set(image_ids.tolist())):
        tmp_id = np.flatnonzero(image_ids == uid)
        tally = {}
        for position, label in enumerate(labels[tmp_id].tolist()):
            tally.setdefault(label, []).append(position)
        for label, locs in tally.items():
            if len(locs) < 2:
                continue
            sim = centers[label] @ features[tmp_id[locs]].T
            idx = int(np.argmax(sim))
            for n, loc in enumerate(locs):
                if n != idx:
                    labels[tmp_id[loc]] = num_classes
                    num_classes += 1
    return labels


def dense_self_paced_labels(
        distance: np.ndarray,
        eps: Sequence[float] = (0.68, 0.70, 0.72),
        min_samples: int = 4,
        independence_threshold: Optional[float] = None,
        features: Optional[np.ndarray] = None,
        image_ids: Optional[np.ndarray] = None,
        same_image_rule: bool = False) -> Tuple[np.ndarray, Optional[float]]:
    """SpCL's self-paced clustering (with CGPS's optional same-image rule), literally.

    Returns:
        ``(labels, independence_threshold)``: labels in
        :func:`~mmssl.labels.self_paced_dbscan.canonical_labels` form.
    """
    eps_tight, eps_normal, eps_loose = sorted(eps)
    labelings = []
    for value in (eps_normal, eps_tight, eps_loose):
        labels = _dense_outliers_to_singletons(
            dense_dbscan(distance, value, min_samples))
        if same_image_rule:
            labels = dense_separate_same_image(labels, features, image_ids)
        labelings.append(labels)
    pseudo_labels, pseudo_labels_tight, pseudo_labels_loose = labelings

    N = len(pseudo_labels)
    label_sim = pseudo_labels[None, :] == pseudo_labels[:, None]
    label_sim_tight = pseudo_labels_tight[None, :] == pseudo_labels_tight[:, None]
    label_sim_loose = pseudo_labels_loose[None, :] == pseudo_labels_loose[:, None]
    R_comp = 1 - (label_sim & label_sim_tight).sum(-1) / (
        label_sim | label_sim_tight).sum(-1)
    R_indep = 1 - (label_sim & label_sim_loose).sum(-1) / (
        label_sim | label_sim_loose).sum(-1)
    del label_sim, label_sim_tight, label_sim_loose

    cluster_R_comp, cluster_R_indep = {}, {}
    cluster_img_num = {}
    for comp, indep, label in zip(R_comp.tolist(), R_indep.tolist(),
                                  pseudo_labels.tolist()):
        cluster_R_comp.setdefault(label, []).append(comp)
        cluster_R_indep.setdefault(label, []).append(indep)
        cluster_img_num[label] = cluster_img_num.get(label, 0) + 1
    keys = sorted(cluster_R_comp.keys())
    cluster_R_comp = {k: min(cluster_R_comp[k]) for k in keys}
    cluster_R_indep = {k: min(cluster_R_indep[k]) for k in keys}
    cluster_R_indep_noins = [cluster_R_indep[k] for k in keys
                             if cluster_img_num[k] > 1]
    if independence_threshold is None and cluster_R_indep_noins:
        independence_threshold = float(np.sort(cluster_R_indep_noins)[min(
            len(cluster_R_indep_noins) - 1,
            np.round(len(cluster_R_indep_noins) * 0.9).astype('int'))])

    outliers = 0
    labels = pseudo_labels.copy()
    for i in range(N):
        label = int(pseudo_labels[i])
        independent = (independence_threshold is None
                       or cluster_R_indep[label] <= independence_threshold)
        if not (independent and R_comp[i] <= cluster_R_comp[label]):
            labels[i] = len(cluster_R_indep) + outliers
            outliers += 1
    return canonical_labels(labels), independence_threshold
