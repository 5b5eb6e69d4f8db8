import numpy as np
import pytest
import scipy.sparse as sp

from mmssl.labels.dense_reference import dense_multilabels
from mmssl.labels.multi_labels import dynamic_multilabels, exclusive_multilabels
from mmssl.labels.neighbour_search import knn_search
from mmssl.labels.synthetic_features import make_clustered_bank


def candidates(rows, cols, sims, num):
    return sp.csr_matrix((np.asarray(sims, dtype=np.float32), (rows, cols)),
                         shape=(num, num))


def positives(labels, row):
    return labels.indices[labels.indptr[row]:labels.indptr[row + 1]].tolist()


def test_hand_built_walk():
    # images: 0 -> {0, 4}, 1 -> {1, 2}, 2 -> {3}
    image_ids = np.array([0, 1, 1, 2, 0])
    # row 0: self, then 1 (0.9, image 1), 2 (0.85, image 1), 3 (0.8), 4 (0.75,
    # own image); row 1: a tie between 3 and 0 at 0.8.
    cand = candidates([0, 0, 0, 0, 0, 1, 1, 1, 2],
                      [0, 1, 2, 3, 4, 1, 3, 0, 2],
                      [1.0, 0.9, 0.85, 0.8, 0.75, 1.0, 0.8, 0.8, 1.0], 5)
    labels = exclusive_multilabels(cand, image_ids)
    assert positives(labels, 0) == [0, 1, 3]  # 2 loses to 1, 4 shares 0's image
    assert positives(labels, 1) == [0, 1, 3]
    assert positives(labels, 2) == [2]
    assert positives(labels, 4) == [4]  # self even with no candidate at all
    assert (labels.data == 1).all()


def test_tie_in_one_image_goes_to_the_smaller_index():
    image_ids = np.array([0, 1, 1])
    cand = candidates([0, 0, 0], [0, 2, 1], [1.0, 0.8, 0.8], 3)
    assert positives(exclusive_multilabels(cand, image_ids), 0) == [0, 1]


def test_duplicate_of_self_in_own_image_never_replaces_self():
    image_ids = np.array([0, 0])
    cand = candidates([1, 1], [0, 1], [1.0, 1.0], 2)  # 0 ties 1 at s = 1
    assert positives(exclusive_multilabels(cand, image_ids), 1) == [1]


def literal_walk(features, image_ids, threshold):
    """The walk of Eq. 10 written as plainly as possible."""
    x = features.astype(np.float64)
    sims = (x @ x.T).astype(np.float32)
    result = []
    for i in range(len(features)):
        order = sorted(np.flatnonzero(sims[i] >= threshold).tolist(),
                       key=lambda j: (j != i, -sims[i, j], j))
        if i not in order:
            order.insert(0, i)
        rejected, accepted = set(), []
        for j in order:
            if j in rejected:
                continue
            accepted.append(j)
            rejected |= {b for b in range(len(features))
                         if image_ids[b] == image_ids[j] and b != j}
        result.append(sorted(accepted))
    return result


@pytest.mark.parametrize('threshold', [0.45, 0.6, 0.7])
def test_vectorised_walk_equals_literal_loop(threshold):
    bank = make_clustered_bank(300, dim=32, duplicate_fraction=0.05,
                               boxes_per_image=5, seed=3)
    # put some same-identity boxes into one image, so the exclusion bites
    image_ids = bank.image_ids.copy()
    image_ids[::17] = image_ids[1]
    labels = dynamic_multilabels(bank.features, image_ids, threshold)
    expected = literal_walk(bank.features, image_ids, threshold)
    assert [positives(labels, i) for i in range(300)] == expected
    dense = dense_multilabels(bank.features, image_ids, threshold)
    np.testing.assert_array_equal(labels.toarray() > 0, dense)
    assert labels.nnz > 300 + 50  # not only self


def test_knn_shortcut_gives_the_same_labels():
    bank = make_clustered_bank(500, dim=32, seed=4)
    knn = knn_search(bank.features, 8)
    for threshold in (0.3, 0.65):
        direct = dynamic_multilabels(bank.features, bank.image_ids, threshold)
        via_knn = dynamic_multilabels(bank.features, bank.image_ids, threshold,
                                      knn=knn)
        assert (direct != via_knn).nnz == 0


def test_bad_image_ids():
    features = np.eye(4, dtype=np.float32)
    with pytest.raises(ValueError, match='length 4'):
        dynamic_multilabels(features, np.zeros(3, dtype=int), 0.7)
    with pytest.raises(ValueError, match='integers'):
        dynamic_multilabels(features, np.zeros(4), 0.7)
