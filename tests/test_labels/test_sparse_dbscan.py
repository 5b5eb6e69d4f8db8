import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import DBSCAN

from mmssl.labels.sparse_dbscan import NeighbourGraph, dbscan_labels


def random_distance(num, density, seed, diagonal=True, ties=False):
    """A symmetric sparse distance; with ``ties``, values on a coarse grid, so that
    many entries sit exactly at ``eps`` and border points touch several clusters."""
    rng = np.random.default_rng(seed)
    upper = sp.random(num, num, density=density, random_state=rng, format='coo')
    values = rng.uniform(0.0, 1.0, upper.nnz)
    if ties:
        values = np.round(values * 10) / 10
    keep = upper.row < upper.col
    rows, cols, values = upper.row[keep], upper.col[keep], values[keep]
    if diagonal:
        rows = np.r_[rows, np.arange(num)]
        cols = np.r_[cols, np.arange(num)]
        values = np.r_[values, np.zeros(num)]
    matrix = sp.csr_matrix((np.r_[values, values[rows != cols]],
                            (np.r_[rows, cols[rows != cols]],
                             np.r_[cols, rows[rows != cols]])), shape=(num, num))
    matrix.sort_indices()
    return matrix


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('min_samples', [1, 2, 4, 7])
@pytest.mark.parametrize('ties', [False, True])
def test_identical_to_scikit_learn(seed, min_samples, ties):
    distance = random_distance(400, 0.02, seed, diagonal=seed % 3 != 0, ties=ties)
    for eps in (0.3, 0.5, 0.7):
        expected = DBSCAN(eps=eps, min_samples=min_samples,
                          metric='precomputed').fit_predict(distance)
        np.testing.assert_array_equal(dbscan_labels(distance, eps, min_samples),
                                      expected)


def test_one_graph_serves_several_radii():
    distance = random_distance(300, 0.03, 7, ties=True)
    graph = NeighbourGraph(distance)
    for eps in (0.3, 0.5, 0.7):
        np.testing.assert_array_equal(graph.dbscan(eps, 4),
                                      dbscan_labels(distance, eps, 4))


def test_border_point_joins_the_first_cluster():
    """Point 4 is a border point of clusters {1, 2, 3, 9} and {0, 5, 6, 7}: it joins
    the cluster numbered first (the one holding point 0), not its nearest-index
    neighbour's, as scikit-learn's walk does."""
    pairs = [(a, b) for group in ((1, 2, 3, 9), (0, 5, 6, 7))
             for a in group for b in group if a < b] + [(4, 2), (4, 6)]
    rows = [a for a, b in pairs] + [b for a, b in pairs]
    cols = [b for a, b in pairs] + [a for a, b in pairs]
    distance = sp.csr_matrix((np.full(len(rows), 0.1), (rows, cols)), shape=(10, 10))
    labels = dbscan_labels(distance, 0.2, min_samples=4)
    np.testing.assert_array_equal(labels, [0, 1, 1, 1, 0, 0, 0, 0, -1, 1])
    np.testing.assert_array_equal(
        labels, DBSCAN(eps=0.2, min_samples=4,
                       metric='precomputed').fit_predict(distance))


def test_no_core_point_is_all_noise():
    distance = sp.csr_matrix(np.array([[0, 0.1, 0], [0.1, 0, 0.9], [0, 0.9, 0]]))
    np.testing.assert_array_equal(dbscan_labels(distance, 0.5, min_samples=3),
                                  [-1] * 3)
    # a stored diagonal above eps: the point is not its own neighbour
    distance = sp.csr_matrix(np.array([[0.6, 0.1], [0.1, 0.0]]))
    np.testing.assert_array_equal(dbscan_labels(distance, 0.5, min_samples=2),
                                  [0, 0])
    np.testing.assert_array_equal(
        dbscan_labels(distance, 0.5, min_samples=2),
        DBSCAN(eps=0.5, min_samples=2, metric='precomputed').fit_predict(distance))


def test_errors():
    with pytest.raises(ValueError, match='square'):
        dbscan_labels(sp.csr_matrix((3, 4)), 0.5)
    with pytest.raises(ValueError, match='symmetric'):
        dbscan_labels(sp.csr_matrix(np.triu(np.full((3, 3), 0.1))), 0.5)
    with pytest.raises(ValueError, match='min_samples'):
        dbscan_labels(sp.identity(3, format='csr'), 0.5, min_samples=0)
