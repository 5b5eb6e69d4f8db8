"""Tests of mmssl.labels.knn_refinement (neighbours-of-neighbours join)."""
import numpy as np
import pytest

from mmssl.labels import (knn_search, make_clustered_bank, pair_similarities,
                          refine_knn, reverse_neighbours)


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    return sum(np.intersect1d(f[f >= 0], e).size
               for f, e in zip(found, exact)) / exact.size


def test_reverse_neighbours_hand_built():
    # row 0 lists 1 and 2; row 1 lists 2; row 2 lists 0 and 1 (less similar)
    indices = np.array([[0, 1, 2], [1, 2, -1], [2, 0, 1]])
    sims = np.array([[1.0, 0.9, 0.5], [1.0, 0.8, -np.inf], [1.0, 0.7, 0.6]],
                    dtype=np.float32)
    reverse = reverse_neighbours(sims, indices, width=2)
    # who lists 0: row 2 (0.7); who lists 1: row 0 (0.9), row 2 (0.6);
    # who lists 2: row 1 (0.8), row 0 (0.5). Self entries never count.
    np.testing.assert_array_equal(reverse, [[2, -1], [0, 2], [1, 0]])
    np.testing.assert_array_equal(
        reverse_neighbours(sims, indices, width=1), [[2], [0], [1]])


def test_exact_knn_is_a_fixed_point():
    bank = make_clustered_bank(600, dim=32, seed=1)
    exact = knn_search(bank.features, 10)
    sims, ids = refine_knn(bank.features, exact, width=4)
    np.testing.assert_array_equal(ids, exact[1])
    np.testing.assert_allclose(sims, exact[0], rtol=0, atol=1e-6)


def test_refinement_recovers_dropped_neighbours_and_keeps_kept_ones():
    bank = make_clustered_bank(800, dim=32, num_identities=100, seed=2)
    k = 12
    exact_sims, exact_ids = knn_search(bank.features, k)
    # a damaged graph, in knn_search's order (missing places last): every row
    # keeps only self and its 3rd, 6th and 9th neighbour
    keep = np.arange(0, k, 3)
    damaged_ids = np.full_like(exact_ids, -1)
    damaged_sims = np.full_like(exact_sims, -np.inf)
    damaged_ids[:, :len(keep)] = exact_ids[:, keep]
    damaged_sims[:, :len(keep)] = exact_sims[:, keep]
    sims, ids = refine_knn(bank.features, (damaged_sims, damaged_ids), width=4)

    before, after = _recall(damaged_ids, exact_ids), _recall(ids, exact_ids)
    assert before == pytest.approx(4 / 12)
    assert after > 0.75  # measured 0.81
    # nothing the input had above the output's k-th place is lost
    for row in range(len(ids)):
        kept = damaged_ids[row][damaged_sims[row] > sims[row, -1]]
        assert set(kept) <= set(ids[row])
    # canonical: exact similarities, descending, no repeated index in a row; a row
    # whose joins found fewer than k candidates ends in -1 / -inf places
    valid = ids >= 0
    assert valid.mean() > 0.95
    assert (np.sort(~valid, axis=1) == ~valid).all()  # missing places come last
    assert np.isneginf(sims[~valid]).all()
    rows = np.broadcast_to(np.arange(len(ids))[:, None], ids.shape)
    np.testing.assert_allclose(
        sims[valid],
        np.einsum('nd,nd->n', bank.features[rows[valid]],
                  bank.features[ids[valid]]), atol=1e-6)
    assert (np.diff(np.where(valid, sims, -2.0), axis=1) <= 0).all()
    assert all(len(set(r[r >= 0])) == (r >= 0).sum() for r in ids)
    # chunking does not change the result
    again = refine_knn(bank.features, (damaged_sims, damaged_ids), width=4,
                       chunk_size=7)
    np.testing.assert_array_equal(again[1], ids)


def test_refined_similarities_match_pair_similarities():
    bank = make_clustered_bank(300, dim=16, seed=3)
    exact = knn_search(bank.features, 5)
    sims, ids = refine_knn(bank.features, exact, width=2)
    rows = np.broadcast_to(np.arange(len(ids))[:, None], ids.shape)
    np.testing.assert_array_equal(
        sims, pair_similarities(bank.features, bank.features, rows, ids))


def test_bad_input():
    bank = make_clustered_bank(50, dim=8, seed=0)
    sims, ids = knn_search(bank.features, 4)
    with pytest.raises(ValueError, match='width'):
        refine_knn(bank.features, (sims, ids), width=0)
    with pytest.raises(ValueError, match='do not match'):
        refine_knn(bank.features, (sims[:10], ids[:10]))
