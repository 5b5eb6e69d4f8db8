import numpy as np
import pytest
import scipy.sparse as sp

import mmssl.labels.chunk_threads as chunk_threads
import mmssl.labels.jaccard_distance as jaccard_module
import mmssl.labels.sparse_product as sparse_product
from mmssl.labels.dense_reference import dense_dbscan, dense_jaccard_distance
from mmssl.labels.jaccard_distance import (k_reciprocal_jaccard_distance,
                                           overlap_for_distance)
from mmssl.labels.neighbour_search import knn_search
from mmssl.labels.sparse_dbscan import dbscan_labels
from mmssl.labels.synthetic_features import make_clustered_bank


def random_unit(num, dim, seed):
    x = np.random.default_rng(seed).standard_normal((num, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def stored_mask(matrix):
    coo = matrix.tocoo()
    mask = np.zeros(matrix.shape, dtype=bool)
    mask[coo.row, coo.col] = True
    return mask


def assert_matches_dense(sparse, dense, cutoff=1.0):
    mask = stored_mask(sparse)
    np.testing.assert_array_equal(mask, dense < cutoff)  # same pairs stored
    np.testing.assert_allclose(sparse.toarray()[mask], dense[mask], rtol=0,
                               atol=1e-12)


@pytest.mark.parametrize('k1, k2', [(30, 6), (20, 6), (10, 1), (7, 3)])
def test_random_sets_equal_dense(k1, k2):
    features = random_unit(250, 16, seed=k1 + k2)
    sparse = k_reciprocal_jaccard_distance(features, k1, k2)
    assert_matches_dense(sparse, dense_jaccard_distance(features, k1, k2))


def test_small_chunks_on_three_threads_equal_dense(monkeypatch):
    # every chunked step (set lookups, expansion products, query expansion) in
    # many chunks, on more threads than the machine has cores
    monkeypatch.setattr(chunk_threads, 'chunk_workers', lambda: 3)
    monkeypatch.setattr(jaccard_module, 'chunk_workers', lambda: 3)
    monkeypatch.setattr(sparse_product, 'chunk_workers', lambda: 3)
    monkeypatch.setattr(jaccard_module, 'SIMILARITY_CHUNK', 50)
    monkeypatch.setattr(jaccard_module, 'SHARED_CHUNK', 200)
    monkeypatch.setattr(sparse_product, 'CHUNK_ENTRIES', 300)
    bank = make_clustered_bank(400, dim=32, duplicate_fraction=0.05, seed=12)
    sparse = k_reciprocal_jaccard_distance(bank.features)
    assert_matches_dense(sparse, dense_jaccard_distance(bank.features))


def test_clustered_set_with_duplicates_equals_dense():
    bank = make_clustered_bank(500, dim=32, duplicate_fraction=0.08, seed=8)
    dense = dense_jaccard_distance(bank.features)
    sparse = k_reciprocal_jaccard_distance(bank.features)
    assert_matches_dense(sparse, dense)
    # duplicates of one another sit at distance 0 off the diagonal
    off_diagonal_zero = (dense == 0) & ~np.eye(500, dtype=bool)
    assert off_diagonal_zero.any()
    assert stored_mask(sparse)[off_diagonal_zero].all()
    coo = sparse.tocoo()
    explicit_zeros = (coo.data == 0) & (coo.row != coo.col)
    assert explicit_zeros.sum() > 10  # stored, although their value is 0
    cut = k_reciprocal_jaccard_distance(bank.features,
                                        cutoff=np.nextafter(0.72, 2))
    assert_matches_dense(cut, dense, np.nextafter(0.72, 2))
    assert cut.nnz < sparse.nnz


def test_structure_symmetric_and_diagonal_stored():
    bank = make_clustered_bank(300, dim=32, seed=9)
    distance = k_reciprocal_jaccard_distance(bank.features, cutoff=0.8)
    assert (distance != distance.T).nnz == 0
    assert stored_mask(distance).diagonal().all()
    np.testing.assert_array_equal(distance.diagonal(), 0)
    assert distance.has_sorted_indices and distance.data.max() < 0.8


def test_precomputed_knn_is_used():
    features = random_unit(200, 16, seed=1)
    knn = knn_search(features, 30)
    np.testing.assert_array_equal(
        k_reciprocal_jaccard_distance(features, knn=knn).toarray(),
        k_reciprocal_jaccard_distance(features).toarray())
    with pytest.raises(ValueError, match='knn indices'):
        k_reciprocal_jaccard_distance(features, knn=(knn[0][:, :5], knn[1][:, :5]))


@pytest.mark.parametrize('eps', [0.5, 0.68, 0.7, 0.72])
def test_sklearn_dbscan_on_sparse_equals_dense(eps):
    bank = make_clustered_bank(600, dim=32, duplicate_fraction=0.05, seed=10)
    dense = dense_jaccard_distance(bank.features)
    sparse = k_reciprocal_jaccard_distance(bank.features,
                                           cutoff=np.nextafter(0.72, 2))
    labels = dbscan_labels(sparse, eps)
    np.testing.assert_array_equal(labels, dense_dbscan(dense, eps))
    assert (labels >= 0).sum() > 100


def test_overlap_bound_and_errors():
    for cutoff in (0.3, 0.72, 0.99):
        m = overlap_for_distance(cutoff)
        assert 1 - m / (2 - m) == pytest.approx(cutoff)
    assert overlap_for_distance(1.0) == 0.0
    with pytest.raises(ValueError, match='cutoff'):
        k_reciprocal_jaccard_distance(random_unit(10, 4, 0), cutoff=1.5)


def test_knn_pairs_are_a_subset_with_equal_values():
    bank = make_clustered_bank(600, dim=32, seed=12)
    cutoff = np.nextafter(0.72, 2)
    full = k_reciprocal_jaccard_distance(bank.features, cutoff=cutoff)
    knn_only = k_reciprocal_jaccard_distance(bank.features, cutoff=cutoff,
                                             pairs='knn')
    kept = stored_mask(knn_only)
    assert not (kept & ~stored_mask(full)).any()
    np.testing.assert_array_equal(knn_only.toarray()[kept], full.toarray()[kept])
    assert kept.sum() >= 0.85 * full.nnz  # most close pairs are kNN pairs
    with pytest.raises(ValueError, match='pairs'):
        k_reciprocal_jaccard_distance(bank.features, pairs='some')
