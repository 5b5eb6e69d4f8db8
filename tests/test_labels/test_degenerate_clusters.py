"""A clustering whose largest cluster holds too many boxes is degenerate."""
import numpy as np
import pytest

from mmssl.labels.degenerate_clusters import (dissolve_large_clusters,
                                              is_degenerate, largest_cluster)


def test_largest_cluster_and_degenerate():
    labels = np.array([0, 0, 0, 0, 1, 1, 2, 3, 4, 5])
    assert largest_cluster(labels) == (4, 0.4)
    assert is_degenerate(labels, 0.3) and not is_degenerate(labels, 0.4)
    assert largest_cluster(np.zeros(0, np.int64)) == (0, 0.0)


def test_dissolve_large_clusters_makes_singletons_of_them_only():
    labels = np.array([3, 3, 3, 3, 3, 3, 1, 1, 0, 2])
    out = dissolve_large_clusters(labels, 0.5)
    # the six 3s become six singletons; the pair of 1s stays a pair
    assert out[6] == out[7]
    assert len(np.unique(out[:6])) == 6
    assert set(out[:6]).isdisjoint({out[6], out[8], out[9]})
    assert out[0] == 0 and sorted(np.unique(out)) == list(range(len(np.unique(out))))
    np.testing.assert_array_equal(dissolve_large_clusters(labels, 1.0),
                                  [0, 0, 0, 0, 0, 0, 1, 1, 2, 3])
    with pytest.raises(ValueError, match='max_share'):
        dissolve_large_clusters(labels, 0.0)
