"""rank_by_similarity: threshold, order, ties, normalisation, top-k, errors."""
import numpy as np
import pytest

from mmssl.apis import rank_by_similarity


def unit(*rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_keeps_scores_at_threshold_and_sorts_by_dot_product():
    query = unit([1, 0, 0])[0]
    feats = unit([0, 1, 0], [1, 1, 0], [1, 0, 0], [-1, 0, 0], [1, 0, 1])
    scores = np.array([0.9, 0.5, 0.49, 0.8, 0.7])
    indices, sims = rank_by_similarity(query, feats, scores, score_thr=0.5)
    # index 2 is the best match but scores 0.49 < 0.5: left out
    assert indices.tolist() == [1, 4, 0, 3]
    np.testing.assert_allclose(sims, [2 ** -0.5, 2 ** -0.5, 0.0, -1.0], atol=1e-6)
    assert indices.dtype == np.int64 and sims.dtype == np.float32


def test_ties_keep_gallery_order_and_topk_cuts():
    query = unit([0, 1])[0]
    feats = unit([1, 1], [0, 1], [1, 1], [1, 1])
    indices, _ = rank_by_similarity(query, feats, np.ones(4), topk=3)
    assert indices.tolist() == [1, 0, 2]
    indices, sims = rank_by_similarity(query, feats, np.ones(4), topk=0)
    assert indices.size == 0 and sims.size == 0


def test_features_are_normalised_first():
    rng = np.random.default_rng(0)
    query, feats = rng.normal(size=8), rng.normal(size=(20, 8))
    scores = rng.uniform(size=20)
    a_idx, a_sim = rank_by_similarity(3.0 * query, feats * rng.uniform(
        0.1, 10, size=(20, 1)), scores, score_thr=0.3)
    b_idx, b_sim = rank_by_similarity(query / np.linalg.norm(query), unit(*feats),
                                      scores, score_thr=0.3)
    assert a_idx.tolist() == b_idx.tolist()
    np.testing.assert_allclose(a_sim, b_sim, atol=1e-6)
    assert np.all(np.diff(a_sim) <= 0) and np.all(scores[a_idx] >= 0.3)
    assert len(a_idx) == int((scores >= 0.3).sum())


def test_empty_gallery():
    indices, sims = rank_by_similarity(np.ones(4), np.zeros((0, 4)), np.zeros(0))
    assert indices.shape == (0, ) and sims.shape == (0, )


@pytest.mark.parametrize('feats, scores, topk, match', [
    (np.ones((3, 5)), np.ones(3), None, 'do not match a 4-d query'),
    (np.ones((3, 4)), np.ones(2), None, '2 scores for 3 features'),
    (np.ones((3, 4)), np.ones(3), -1, 'topk must be >= 0'),
])
def test_errors(feats, scores, topk, match):
    with pytest.raises(ValueError, match=match):
        rank_by_similarity(np.ones(4), feats, scores, topk=topk)


def test_confidence_weighted_ranking():
    query = unit([1, 0])[0]
    feats = unit([1, 0.2], [1, 0.6])  # cosines .98 and .86
    scores = np.array([0.6, 1.0])
    plain, _ = rank_by_similarity(query, feats, scores)
    weighted, sims = rank_by_similarity(query, feats, scores, confidence_weighted=True)
    assert plain.tolist() == [0, 1] and weighted.tolist() == [1, 0]
    cosines = feats @ query
    np.testing.assert_allclose(sims, [cosines[1] * 1.0, cosines[0] * 0.6], atol=1e-6)
