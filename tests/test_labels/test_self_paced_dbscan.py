import numpy as np
import pytest

from mmssl.labels.dense_reference import (dense_jaccard_distance,
                                          dense_self_paced_labels)
from mmssl.labels.jaccard_distance import k_reciprocal_jaccard_distance
from mmssl.labels.self_paced_dbscan import (canonical_labels,
                                            outliers_to_singletons,
                                            self_paced_clustering)
from mmssl.labels.synthetic_features import make_clustered_bank


@pytest.fixture(scope='module')
def case():
    bank = make_clustered_bank(700, dim=32, boxes_per_image=2.5, seed=21)
    dense = dense_jaccard_distance(bank.features)
    sparse = k_reciprocal_jaccard_distance(bank.features,
                                           cutoff=np.nextafter(0.72, 2))
    return bank, dense, sparse


@pytest.mark.parametrize('rule', [False, True])
def test_equals_dense_reference(case, rule):
    bank, dense, sparse = case
    kwargs = dict(features=bank.features, image_ids=bank.image_ids,
                  same_image_rule=rule)
    result = self_paced_clustering(sparse, **kwargs)
    labels, threshold = dense_self_paced_labels(dense, **kwargs)
    np.testing.assert_array_equal(result.labels, labels)
    assert result.independence_threshold == threshold
    counts = np.bincount(result.labels)
    assert result.num_clusters == (counts > 1).sum() > 10
    assert result.num_singletons == (counts == 1).sum()


def test_fixed_threshold_is_reused(case):
    bank, dense, sparse = case
    first = self_paced_clustering(sparse)
    strict = self_paced_clustering(sparse, independence_threshold=0.0)
    assert strict.independence_threshold == 0.0
    labels, _ = dense_self_paced_labels(dense, independence_threshold=0.0)
    np.testing.assert_array_equal(strict.labels, labels)
    # a stricter threshold expels more clusters
    assert strict.num_singletons > first.num_singletons


def test_the_criterion_expels_something(case):
    """Self-paced labels differ from plain DBSCAN at the normal eps."""
    _, _, sparse = case
    from mmssl.labels.sparse_dbscan import dbscan_labels
    plain = canonical_labels(outliers_to_singletons(dbscan_labels(sparse, 0.70)))
    assert not np.array_equal(self_paced_clustering(sparse).labels, plain)


def test_canonical_and_singletons():
    np.testing.assert_array_equal(canonical_labels([5, 5, 2, 9, 2]),
                                  [0, 0, 1, 2, 1])
    np.testing.assert_array_equal(outliers_to_singletons([-1, 0, -1, 1, 0]),
                                  [2, 0, 3, 1, 0])


def test_errors(case):
    _, _, sparse = case
    with pytest.raises(ValueError, match='three radii'):
        self_paced_clustering(sparse, eps=(0.7,))
    with pytest.raises(ValueError, match='needs features'):
        self_paced_clustering(sparse, same_image_rule=True)
