import math

import numpy as np
import pytest
import scipy.sparse as sp

from mmssl.labels.pairwise_metrics import pairwise_precision_recall


def test_clusters_hand_case():
    # known samples 0..3 (4 is unknown): predicted pairs {0,1} {2,3}; true pairs
    # {0,1} {0,2} {1,2}; one true positive.
    labels = np.array([0, 0, 1, 1, 1])
    ids = np.array([5, 5, 5, 6, -2])
    scores = pairwise_precision_recall(labels, ids)
    assert (scores.predicted_pairs, scores.true_pairs,
            scores.true_positive_pairs) == (2, 3, 1)
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(1 / 3)


def test_perfect_and_empty():
    ids = np.array([0, 0, 1, 1, 2])
    perfect = pairwise_precision_recall(np.array([3, 3, 1, 1, 0]), ids)
    assert perfect.precision == perfect.recall == 1.0
    alone = pairwise_precision_recall(np.arange(5), ids)
    assert math.isnan(alone.precision) and alone.recall == 0.0


def test_multilabels_hand_case():
    ids = np.array([0, 0, 1, -1])
    rows = [0, 0, 0, 1, 2, 2, 3]
    cols = [0, 1, 2, 1, 2, 3, 0]
    labels = sp.csr_matrix((np.ones(7), (rows, cols)), shape=(4, 4))
    scores = pairwise_precision_recall(labels, ids)
    # counted ordered pairs: (0,1) true, (0,2) false; self pairs and pairs with
    # the unknown sample 3 are ignored; true ordered pairs: (0,1), (1,0)
    assert (scores.predicted_pairs, scores.true_positive_pairs,
            scores.true_pairs) == (2, 1, 2)
    assert scores.precision == 0.5 and scores.recall == 0.5


def test_errors():
    with pytest.raises(ValueError, match='do not match'):
        pairwise_precision_recall(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match='>= 0'):
        pairwise_precision_recall(np.array([-1, 0]), np.zeros(2))
    with pytest.raises(ValueError, match='does not match'):
        pairwise_precision_recall(sp.eye(3), np.zeros(4))
