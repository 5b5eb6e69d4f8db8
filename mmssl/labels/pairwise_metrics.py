"""Pairwise precision and recall of pseudo labels against ground-truth identities.

The paper's Fig. 4 compares cluster labels and dynamic multi-labels this way. A pair
of samples is *predicted* positive when the labelling puts them together (same cluster
label, or ``Y_ij = 1`` for a multi-label matrix) and *truly* positive when they have
the same ground-truth person id. Samples with an unknown id (``< 0``: PRW's -2
unlabelled, -1 unknown) take part in no pair. Self-pairs never count.

* Clusters: unordered pairs ``{i, j}``, counted from the contingency table of
  (label, id) in ``O(N)``.
* Multi-labels: ordered pairs ``(i, j)``, ``i != j``, from the stored entries of the
  CSR (``Y`` need not be symmetric); true pairs are the ordered same-id pairs.
"""
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class PairwiseScores:
    """Pairwise agreement of a labelling with ground truth.

    Attributes:
        precision: true-positive pairs / predicted pairs (nan when nothing is
            predicted).
        recall: true-positive pairs / true pairs (nan when there is no true pair).
        true_positive_pairs: pairs both predicted and true.
        predicted_pairs: pairs predicted positive.
        true_pairs: pairs with the same known id.
    """

    precision: float
    recall: float
    true_positive_pairs: int
    predicted_pairs: int
    true_pairs: int


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _ratio(numerator: int, denominator: int) -> float:
    return float(numerator / denominator) if denominator else float('nan')


def pairwise_precision_recall(labels, person_ids: np.ndarray) -> PairwiseScores:
    """Pairwise precision/recall of cluster labels or a multi-label matrix.

    Args:
        labels: ``(N,)`` non-negative cluster labels (outliers as singletons), or
            an ``(N, N)`` scipy sparse matrix whose stored non-zero entries are the
            predicted positive pairs.
        person_ids: ``(N,)`` ground-truth ids; ``< 0`` means unknown.

    Returns:
        :class:`PairwiseScores`.

    Raises:
        ValueError: sizes do not match.
    """
    person_ids = np.asarray(person_ids, dtype=np.int64)
    num = len(person_ids)
    known = person_ids >= 0
    if sp.issparse(labels):
        matrix = sp.coo_matrix(labels)
        if matrix.shape != (num, num):
            raise ValueError(f'multi-label matrix of shape {matrix.shape} does not '
                             f'match {num} person ids')
        rows, cols = matrix.row[matrix.data != 0], matrix.col[matrix.data != 0]
        counted = (rows != cols) & known[rows] & known[cols]
        rows, cols = rows[counted], cols[counted]
        predicted = len(rows)
        true_positive = int((person_ids[rows] == person_ids[cols]).sum())
        id_counts = np.unique(person_ids[known], return_counts=True)[1]
        true_pairs = 2 * _pairs(id_counts)
    else:
        labels = np.asarray(labels)
        if labels.shape != (num,):
            raise ValueError(f'labels of shape {labels.shape} do not match {num} '
                             'person ids')
        if labels.size and labels.min() < 0:
            raise ValueError('cluster labels must be >= 0 (outliers as singletons)')
        labels, ids = labels[known].astype(np.int64), person_ids[known]
        predicted = _pairs(np.unique(labels, return_counts=True)[1])
        true_pairs = _pairs(np.unique(ids, return_counts=True)[1])
        joint = labels * (int(ids.max(initial=0)) + 1) + ids
        true_positive = _pairs(np.unique(joint, return_counts=True)[1])
    return PairwiseScores(precision=_ratio(true_positive, predicted),
                          recall=_ratio(true_positive, true_pairs),
                          true_positive_pairs=true_positive,
                          predicted_pairs=predicted,
                          true_pairs=true_pairs)
