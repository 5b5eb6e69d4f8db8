import numpy as np
import pytest

from mmssl.labels.canonical_similarity import (canonical_top_k, check_features,
                                               pair_similarities)
from mmssl.labels.synthetic_features import make_clustered_bank


@pytest.fixture(scope='module')
def bank():
    return make_clustered_bank(200, dim=32, duplicate_fraction=0.08, seed=11)


def test_pair_similarities_rounds_float64_sums(bank):
    rows = np.array([0, 5, 9])
    cols = np.array([3, 5, 100])
    sims = pair_similarities(bank.features, bank.features, rows, cols)
    x = bank.features.astype(np.float64)
    np.testing.assert_array_equal(
        sims, np.einsum('ij,ij->i', x[rows], x[cols]).astype(np.float32))


def test_canonical_top_k_breaks_ties_by_index(bank):
    features = bank.features
    equal = (features[:, None] == features[None]).all(-1) & ~np.eye(200, dtype=bool)
    row, twin = np.argwhere(np.triu(equal))[0]  # row < twin, equal features
    other = next(n for n in range(200) if not equal[row, n] and n != row)
    candidates = np.array([[twin, -1, row, other]])
    sims, ids = canonical_top_k(features, features, np.array([row]), candidates, 3)
    assert ids[0, 0] == row and ids[0, 1] == twin  # the tie: smaller index first
    assert sims[0, 0] == sims[0, 1]
    assert ids[0, 2] == other and np.isfinite(sims[0, 2])
    _, ids = canonical_top_k(features, features, np.array([row]), candidates, 4)
    assert ids[0, 3] == -1 and sims.shape == (1, 3)  # missing candidates last


def test_check_features_names_the_bad_row():
    features = np.ones((5, 4))
    features[3, 1] = np.inf
    with pytest.raises(ValueError, match='row 3'):
        check_features(features)
    checked = check_features(np.ones((2, 3), dtype=np.float64))
    assert checked.dtype == np.float32 and checked.flags.c_contiguous


def test_canonical_top_k_orders_like_a_lexsort_of_similarity_then_index():
    # integer-valued rows: exact ties, exact zeros, negatives
    rng = np.random.default_rng(4)
    features = rng.integers(-2, 3, size=(60, 3)).astype(np.float32)
    features[7] = [-1.0, 0.0, 0.0]
    features[8] = [0.0, 0.0, 1.0]  # <row 7, row 8> = 0
    features[9] = [0.0, -1.0, -1.0]  # <row 7, row 9> = 0, every product -0.0
    rows = np.arange(60)
    candidates = np.stack([rng.permutation(60)[:25] for _ in rows])
    candidates[3, [4, 9]] = -1
    candidates[7, :3] = [9, 8, 40]
    sims, ids = canonical_top_k(features, features, rows, candidates, 20)

    exact = features.astype(np.float64)
    for row in rows:
        listed = candidates[row][candidates[row] >= 0]
        values = (exact[listed] @ exact[row]).astype(np.float32)
        order = np.lexsort((listed, -values))[:20]
        np.testing.assert_array_equal(ids[row], listed[order])
        np.testing.assert_array_equal(sims[row], values[order])
    zeros = np.flatnonzero(sims[7] == 0)
    assert ids[7, zeros].tolist() == sorted(ids[7, zeros].tolist())
    assert {8, 9} <= set(ids[7, zeros].tolist())


@pytest.mark.parametrize('whole_copy', [True, False])
def test_pair_similarities_any_order_and_shape(bank, monkeypatch, whole_copy):
    from mmssl.labels import canonical_similarity
    if not whole_copy:  # the rows are gathered instead
        monkeypatch.setattr(canonical_similarity, 'FLOAT64_COPY_BYTES', 0)
    monkeypatch.setattr(canonical_similarity, 'PAIR_CHUNK', 7)  # rows split
    rng = np.random.default_rng(2)
    rows = rng.integers(0, 200, size=(9, 5))  # unsorted, repeated
    cols = rng.integers(0, 200, size=(9, 5))
    # 45 pairs on 200 rows: without a copy given, the rows are gathered
    copy = canonical_similarity.float64_database(bank.features)
    sims = pair_similarities(bank.features, bank.features, rows, cols, copy)
    gathered = pair_similarities(bank.features, bank.features, rows, cols)
    np.testing.assert_array_equal(sims, gathered)
    x = bank.features.astype(np.float64)
    assert sims.shape == rows.shape and sims.dtype == np.float32
    np.testing.assert_array_equal(
        sims, np.einsum('ij,ij->i', x[rows.ravel()], x[cols.ravel()]).astype(
            np.float32).reshape(rows.shape))
    assert (canonical_similarity.float64_database(bank.features) is None) == (
        not whole_copy)
    with pytest.raises(ValueError, match='shape'):
        pair_similarities(bank.features, bank.features, rows, cols[:, :2])


@pytest.mark.parametrize('whole_copy', [True, False])
def test_canonical_top_k_in_chunks_matches_one_pass(bank, monkeypatch, whole_copy):
    from mmssl.labels import canonical_similarity
    rng = np.random.default_rng(3)
    rows = rng.permutation(200)[:50]
    candidates = np.stack([rng.permutation(200)[:12] for _ in rows])
    candidates[4, 3] = -1
    expected = canonical_top_k(bank.features, bank.features, rows, candidates, 8)
    if not whole_copy:
        monkeypatch.setattr(canonical_similarity, 'FLOAT64_COPY_BYTES', 0)
    monkeypatch.setattr(canonical_similarity, 'PAIR_CHUNK', 25)  # 2 rows a chunk
    monkeypatch.setattr(canonical_similarity, 'ORDER_ROWS', 3)
    got = canonical_top_k(bank.features, bank.features, rows, candidates, 8)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    empty = canonical_top_k(bank.features, bank.features, rows[:0],
                            candidates[:0], 8)
    assert empty[0].shape == (0, 8) and empty[1].shape == (0, 8)
