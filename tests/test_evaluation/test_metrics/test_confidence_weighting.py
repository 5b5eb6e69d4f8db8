"""confidence_weighted_features / pad_query_features: cosine times score, exactly."""
import numpy as np
import pytest

from mmssl.evaluation.functional import l2_normalise
from mmssl.evaluation.metrics.confidence_weighting import (
    confidence_weighted_features, pad_query_features)


def test_cosine_becomes_score_times_cosine():
    rng = np.random.default_rng(0)
    gallery = rng.normal(size=(30, 8)) * rng.uniform(0.1, 5, size=(30, 1))
    queries = rng.normal(size=(4, 8))
    scores = rng.uniform(size=30)
    scores[:2] = [0.0, 1.0]
    weighted = confidence_weighted_features(gallery, scores)
    padded = pad_query_features(queries)
    assert weighted.shape == (30, 9) and padded.shape == (4, 9)
    np.testing.assert_allclose(np.linalg.norm(weighted, axis=1), 1.0, atol=1e-6)
    # re-normalising (as the evaluation does) changes nothing
    np.testing.assert_allclose(l2_normalise(weighted), weighted, atol=1e-6)
    cosine = l2_normalise(queries) @ l2_normalise(gallery).T
    np.testing.assert_allclose(l2_normalise(padded) @ weighted.T,
                               cosine * scores[None], atol=1e-5)


def test_bad_scores_and_shapes():
    with pytest.raises(ValueError, match='outside'):
        confidence_weighted_features(np.ones((2, 3)), [0.5, 1.2])
    with pytest.raises(ValueError, match='scores'):
        confidence_weighted_features(np.ones((2, 3)), [0.5])
    assert confidence_weighted_features(np.zeros((0, 3)), []).shape == (0, 4)
