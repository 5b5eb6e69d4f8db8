import numpy as np
import pytest

from mmssl.labels.synthetic_features import (make_clustered_bank,
                                             make_spcl_style_bank)


def test_shapes_norms_and_ids():
    bank = make_clustered_bank(400, dim=32, seed=1)
    assert bank.features.shape == (400, 32)
    assert bank.features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(bank.features, axis=1), 1, atol=1e-5)
    assert len(np.unique(bank.person_ids)) == 100  # N // 4 identities
    assert bank.image_ids.shape == (400,)


def test_no_image_holds_one_identity_twice():
    bank = make_clustered_bank(1000, dim=16, seed=2)
    pairs = np.stack([bank.image_ids, bank.person_ids], axis=1)
    assert len(np.unique(pairs, axis=0)) == len(pairs)


def test_same_identity_is_more_similar():
    bank = make_clustered_bank(800, dim=64, seed=3)
    sims = bank.features @ bank.features.T
    same = bank.person_ids[:, None] == bank.person_ids[None, :]
    np.fill_diagonal(same, False)
    different = ~same
    np.fill_diagonal(different, False)
    assert sims[same].mean() > sims[different].mean() + 0.3


def test_duplicates_are_exact_copies_within_an_identity():
    bank = make_clustered_bank(500, dim=16, duplicate_fraction=0.1, seed=4)
    _, first, counts = np.unique(bank.features, axis=0, return_index=True,
                                 return_counts=True)
    assert (counts > 1).sum() > 10
    rows = np.flatnonzero((bank.features[:, None] == bank.features[None]).all(-1)
                          .sum(1) > 1)
    for row in rows[:20]:
        twins = np.flatnonzero((bank.features == bank.features[row]).all(1))
        assert len(np.unique(bank.person_ids[twins])) == 1


def test_seed_reproducible_and_bad_size():
    a = make_clustered_bank(50, dim=8, seed=7)
    b = make_clustered_bank(50, dim=8, seed=7)
    np.testing.assert_array_equal(a.features, b.features)
    with pytest.raises(ValueError, match='num_samples'):
        make_clustered_bank(0)


def test_spcl_style_bank_density():
    bank = make_spcl_style_bank(2000, dim=64, seed=5)
    assert bank.features.shape == (2000, 64) and bank.features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(bank.features, axis=1), 1, atol=1e-5)
    counts = np.bincount(bank.person_ids)
    assert (counts == 1).sum() == 400  # 20% singletons
    assert counts[counts > 1].min() == 2
    assert abs(counts[counts > 1].mean() - 4.0) < 0.1
    sims = bank.features @ bank.features.T
    same = bank.person_ids[:, None] == bank.person_ids[None, :]
    np.fill_diagonal(same, False)
    assert 0.7 <= sims[same].mean() <= 0.9
    assert abs(sims[~same & ~np.eye(2000, dtype=bool)].mean()) < 0.02
    pairs = np.stack([bank.image_ids, bank.person_ids], axis=1)
    assert len(np.unique(pairs, axis=0)) == len(pairs)
    with pytest.raises(ValueError, match='members'):
        make_spcl_style_bank(10, members=1.5)
