"""Dynamic pseudo multi-labels with the same-image exclusion (paper Eq. 7, 8, 10).

For sample ``i``, the candidates are ``{j : s_ij >= t}`` (Eq. 8, ``s`` of Eq. 7, ``t``
of Eq. 9). The paper then walks the candidates in descending similarity (Eq. 10) and,
whenever ``j`` is accepted, rejects every other box of ``j``'s image: two persons in
one image are never the same person.

Conventions fixed here (the paper leaves them open):

* ``i`` itself is always a positive of ``i`` and is walked first (so the other boxes
  of ``i``'s own image are never positives of ``i``); the multi-label loss needs
  ``Y_ii = 1``. Self comes first even if ``s_ii < t`` or an exact duplicate ties it.
* Ties in similarity are walked in ascending index order.

The walk is vectorised: sort each row's candidates (self first, then similarity
descending, then index) and keep the first candidate of each image. This is exactly
the walk's result:

*Claim.* The walk accepts ``j`` iff ``j`` is the first candidate of its image in the
walk order.
*Proof.* A candidate is rejected only when an earlier candidate of its own image was
accepted. (If) when ``j`` is first of its image, no earlier candidate shares its
image, so nothing can have rejected it: it is accepted. (Only if) when ``j`` is not
first, let ``f`` be the first candidate of ``j``'s image; by the "if" part ``f`` is
accepted, and ``f`` precedes ``j``, so accepting ``f`` rejected ``j``. ∎
"""
from typing import Optional, Tuple

import numpy as np
import scipy.sparse as sp

from .neighbour_search import SearchOrFeatures, as_search


def check_image_ids(image_ids: np.ndarray, num_samples: int) -> np.ndarray:
    """Validate per-sample image ids and return them as an int64 array.

    Raises:
        ValueError: wrong length or non-integer values.
    """
    image_ids = np.asarray(image_ids)
    if image_ids.ndim != 1 or len(image_ids) != num_samples:
        raise ValueError(f'image_ids must be a 1-d array of length {num_samples} '
                         f'(one per sample), got shape {image_ids.shape}')
    if not np.issubdtype(image_ids.dtype, np.integer):
        raise ValueError(f'image_ids must be integers, got dtype {image_ids.dtype}')
    return image_ids.astype(np.int64)


def exclusive_multilabels(candidates: sp.csr_matrix,
                          image_ids: np.ndarray) -> sp.csr_matrix:
    """Apply the same-image exclusion walk of Eq. 10 to candidate positives.

    Args:
        candidates: ``(N, N)`` CSR whose row ``i`` stores ``s_ij`` for each candidate
            ``j`` (``s_ij >= t``, Eq. 8), e.g. from
            :func:`~mmssl.labels.neighbour_search.range_search`.
        image_ids: ``(N,)`` image of each sample.

    Returns:
        ``(N, N)`` float32 CSR ``Y`` with ``Y_ij = 1`` for the accepted positives,
        self included, indices sorted in each row (scipy stores the index arrays
        as int32 when they fit; cast with ``.astype(np.int64)`` where needed).
    """
    candidates = sp.csr_matrix(candidates)
    num = candidates.shape[0]
    if candidates.shape != (num, num):
        raise ValueError(f'candidates must be square (N, N), got {candidates.shape}')
    _, images = np.unique(check_image_ids(image_ids, num), return_inverse=True)
    images = images.astype(np.int64).ravel()

    coo = candidates.tocoo()
    not_self = coo.row != coo.col
    rows = np.concatenate([np.arange(num, dtype=np.int64),
                           coo.row[not_self].astype(np.int64)])
    cols = np.concatenate([np.arange(num, dtype=np.int64),
                           coo.col[not_self].astype(np.int64)])
    sims = np.concatenate([np.full(num, np.inf),
                           coo.data[not_self].astype(np.float64)])
    # Walk order: by row; self first (similarity +inf); similarity descending;
    # index ascending.
    order = np.lexsort((cols, -sims, rows))
    image_key = rows[order] * (images.max() + 1) + images[cols[order]]
    _, first = np.unique(image_key, return_index=True)
    accepted = order[first]
    rows, cols = rows[accepted], cols[accepted]
    by_position = np.lexsort((cols, rows))
    indptr = np.zeros(num + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=num), out=indptr[1:])
    return sp.csr_matrix((np.ones(len(cols), dtype=np.float32),
                          cols[by_position], indptr), shape=(num, num))


def dynamic_multilabels(features: SearchOrFeatures,
                        image_ids: np.ndarray,
                        threshold: float,
                        *,
                        knn: Optional[Tuple[np.ndarray, np.ndarray]] = None,
                        backend: str = 'auto',
                        index=None) -> sp.csr_matrix:
    """Pseudo multi-labels of Eq. 8 (``s_ij >= t``) cleaned by Eq. 10.

    Args:
        features: ``(N, d)`` L2-normalised float32 rows (the memory ``M`` of Eq. 6),
            or a :class:`~mmssl.labels.neighbour_search.NeighbourSearch` over them.
        image_ids: ``(N,)`` image of each sample.
        threshold: ``t`` (see :func:`~mmssl.labels.dynamic_threshold`).
        knn: optional ``(similarities, indices)`` of
            :func:`~mmssl.labels.neighbour_search.knn_search` on ``features``; rows
            whose k-th similarity is below ``t`` then need no further search.
        backend: ``'auto'`` or ``'torch'``.
        index: optional approximate faiss index over ``features``.

    Returns:
        ``(N, N)`` float32 CSR of the positives, self included (see
        :func:`exclusive_multilabels`).
    """
    search = as_search(features, backend, index)
    if knn is None:
        candidates = search.range(threshold)
    else:
        candidates = search.range_from_knn(threshold, knn)
    return exclusive_multilabels(candidates, image_ids)
