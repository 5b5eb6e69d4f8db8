"""CGPS's scene-context rule: two boxes of one image never share a cluster.

For every image and every cluster holding several of that image's boxes, only the box
most similar to the cluster's centre (the mean of all its members' features) keeps the
cluster; the others become singletons (Yan et al., "Exploring Visual Context for
Weakly Supervised Person Search", AAAI 2022, ``process_label_with_context``). Ties go
to the smaller index, as ``np.argmax`` over the image's boxes in index order does.
"""
import numpy as np

from .neighbour_search import SearchOrFeatures, as_search


def separate_same_image(labels: np.ndarray, features: SearchOrFeatures,
                        image_ids: np.ndarray) -> np.ndarray:
    """Apply the same-image rule to a labelling without outliers.

    Args:
        labels: ``(N,)`` non-negative cluster labels (outliers already singletons).
        features: ``(N, d)`` float32 rows, or a
            :class:`~mmssl.labels.neighbour_search.NeighbourSearch` over them.
        image_ids: ``(N,)`` image of each sample.

    Returns:
        ``(N,)`` int64 labels: unchanged except for the boxes that lost their cluster,
        which get new labels ``max(labels) + 1, ...``.

    Raises:
        ValueError: negative labels or mismatched lengths.
    """
    labels = np.asarray(labels, dtype=np.int64)
    image_ids = np.asarray(image_ids)
    features = as_search(features).features
    num = len(labels)
    if features.shape[0] != num or image_ids.shape != (num,):
        raise ValueError(f'labels ({num}), features ({features.shape[0]}) and '
                         f'image_ids ({image_ids.shape}) must have one entry per '
                         'sample')
    if num and labels.min() < 0:
        raise ValueError('labels must be non-negative (turn outliers into '
                         'singletons first)')
    _, images = np.unique(image_ids, return_inverse=True)
    images = images.ravel().astype(np.int64)
    group = images * (labels.max() + 1) + labels
    _, group_index, group_size = np.unique(group, return_inverse=True,
                                           return_counts=True)
    clashing = np.flatnonzero(group_size[group_index.ravel()] > 1)
    if clashing.size == 0:
        return labels.copy()

    # Centres of the clusters involved: mean of all their members' features.
    involved = np.unique(labels[clashing])
    members = np.flatnonzero(np.isin(labels, involved))
    members = members[np.argsort(labels[members], kind='stable')]
    starts = np.flatnonzero(np.r_[True, np.diff(labels[members]) != 0])
    sums = np.add.reduceat(features[members].astype(np.float64), starts, axis=0)
    centres = sums / np.diff(np.r_[starts, len(members)])[:, None]
    centre_of = np.searchsorted(involved, labels[clashing])
    score = np.einsum('ij,ij->i', centres[centre_of],
                      features[clashing].astype(np.float64))

    # Winner of each (image, cluster) group: highest score, then smallest index.
    order = np.lexsort((clashing, -score, group[clashing]))
    first = np.r_[True, np.diff(group[clashing][order]) != 0]
    losers = np.sort(clashing[order][~first])
    out = labels.copy()
    out[losers] = labels.max() + 1 + np.arange(len(losers))
    return out
