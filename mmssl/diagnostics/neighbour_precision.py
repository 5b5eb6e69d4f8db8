"""Nearest-neighbour identity precision of a feature bank (a learning diagnostic).

Does a bank of re-id features tell identities apart? For every labelled box, its
``k`` most similar labelled boxes *of other images* are found (a box's own image holds
no second sighting of its person, and same-image neighbours would reward context
rather than identity); the precision is the share of those neighbours that show the
same person, averaged over the boxes. 1 is perfect; a bank that ignores identity
scores about the chance of a random labelled box sharing the identity.

Plain numpy and faiss; no mmdet import.
"""
import faiss
import numpy as np


def neighbour_identity_precision(features: np.ndarray, person_ids: np.ndarray,
                                 image_ids: np.ndarray, k: int = 1) -> float:
    """Mean share of same-identity boxes among each labelled box's ``k`` nearest
    labelled boxes from other images, by inner product.

    Args:
        features: ``(N, d)`` features (L2-normalised for cosine similarity).
        person_ids: ``(N,)`` identities; negative = unlabelled (neither a query
            nor a neighbour).
        image_ids: ``(N,)`` image of each box.
        k: neighbours per box.

    Returns:
        The precision in ``[0, 1]``; NaN when no labelled box has a labelled
        neighbour in another image.

    Raises:
        ValueError: inconsistent shapes or ``k < 1``.
    """
    features = np.ascontiguousarray(features, dtype=np.float32)
    person_ids = np.asarray(person_ids).reshape(-1)
    image_ids = np.asarray(image_ids).reshape(-1)
    if features.ndim != 2 or not (len(features) == len(person_ids) ==
                                  len(image_ids)):
        raise ValueError(f'neighbour_identity_precision: features '
                         f'{features.shape}, person_ids {person_ids.shape} and '
                         f'image_ids {image_ids.shape} must describe the same N '
                         'boxes')
    if k < 1:
        raise ValueError(f'neighbour_identity_precision: k must be >= 1, got {k}')
    labelled = np.flatnonzero(person_ids >= 0)
    if len(labelled) < 2:
        return float('nan')
    feats = features[labelled]
    pids = person_ids[labelled]
    images = image_ids[labelled]
    # the k best from other images are among the k + (largest image) best overall
    _, counts = np.unique(images, return_counts=True)
    depth = min(len(labelled), k + int(counts.max()))
    index = faiss.IndexFlatIP(feats.shape[1])
    index.add(feats)
    _, neighbours = index.search(feats, depth)
    valid = neighbours >= 0
    other_image = valid & (images[np.where(valid, neighbours, 0)] != images[:, None])
    # keep the first k neighbours of other images, in rank order
    keep = other_image & (np.cumsum(other_image, axis=1) <= k)
    hits = keep & (pids[np.where(valid, neighbours, 0)] == pids[:, None])
    found = keep.sum(axis=1)
    rows = found > 0
    if not rows.any():
        return float('nan')
    return float(np.mean(hits.sum(axis=1)[rows] / found[rows]))
