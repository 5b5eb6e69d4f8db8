import sys

import numpy as np
import pytest

import mmssl.labels.neighbour_search as ns
from mmssl.labels.neighbour_search import (knn_search, pair_similarities,
                                           range_search, range_search_from_knn,
                                           resolve_backend)
from mmssl.labels.synthetic_features import make_clustered_bank

BACKENDS = ['faiss', 'torch', 'numpy']


@pytest.fixture(scope='module')
def bank():
    # exact duplicates make exact ties, the hard case for tie-breaking
    return make_clustered_bank(600, dim=32, duplicate_fraction=0.08, seed=11)


def brute_similarity(features):
    x = features.astype(np.float64)
    return (x @ x.T).astype(np.float32)


def brute_knn(features, k):
    sims = brute_similarity(features)
    ids = np.argsort(-sims, axis=1, kind='stable')[:, :k]
    return np.take_along_axis(sims, ids, axis=1), ids


@pytest.fixture
def small_blocks(monkeypatch):
    """Force many tiles, so the tiled and merged paths run at test size."""
    monkeypatch.setattr(ns, 'BLOCK_ELEMENTS', 128 * 128)


@pytest.mark.parametrize('backend', BACKENDS)
def test_knn_equals_brute_force(bank, backend, small_blocks):
    sims, ids = knn_search(bank.features, 30, backend=backend)
    ref_sims, ref_ids = brute_knn(bank.features, 30)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(sims, ref_sims)


@pytest.mark.parametrize('backend', BACKENDS)
def test_knn_other_queries(bank, backend, small_blocks):
    queries = bank.features[::7] * 0.5 + bank.features[1::7][:len(
        bank.features[::7])] * 0.5
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    sims, ids = knn_search(bank.features, 12, queries, backend=backend)
    x = bank.features.astype(np.float64)
    ref = (queries.astype(np.float64) @ x.T).astype(np.float32)
    ref_ids = np.argsort(-ref, axis=1, kind='stable')[:, :12]
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(sims, np.take_along_axis(ref, ref_ids, 1))


def test_knn_k_larger_than_n():
    bank = make_clustered_bank(20, dim=8, seed=0)
    sims, ids = knn_search(bank.features, 50)
    assert ids.shape == (20, 20)
    assert (np.sort(ids, axis=1) == np.arange(20)).all()


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('threshold', [0.5, 0.65])
def test_range_equals_brute_force(bank, backend, threshold):
    found = range_search(bank.features, threshold, backend=backend)
    ref = brute_similarity(bank.features)
    np.testing.assert_array_equal(found.toarray(),
                                  np.where(ref >= threshold, ref, 0))
    assert found.has_sorted_indices


@pytest.mark.parametrize('threshold', [0.2, 0.6])
def test_range_from_knn_equals_range(bank, threshold):
    knn = knn_search(bank.features, 10)
    from_knn = range_search_from_knn(bank.features, threshold, *knn)
    direct = range_search(bank.features, threshold)
    assert (from_knn != direct).nnz == 0
    np.testing.assert_array_equal(from_knn.indices, direct.indices)
    if threshold == 0.2:
        # many rows have more than k positives: the range-search fallback ran
        assert (np.diff(direct.indptr) > 10).sum() > 100


def test_gpu_range_emulation_on_a_cpu_index(bank):
    proposer = ns._Proposer(bank.features, 'faiss')
    proposer.on_gpu = True  # take the growing-kNN path, on the CPU index
    lims, ids = proposer.range(bank.features[:50], 0.3)
    ref = brute_similarity(bank.features)[:50] >= 0.3
    for row in range(50):
        assert set(ids[lims[row]:lims[row + 1]]) == set(np.flatnonzero(ref[row]))
    assert (np.diff(lims) > 64).any()  # k had to grow past its start


def test_pair_similarities_rounds_float64_sums(bank):
    rows = np.array([0, 5, 9])
    cols = np.array([3, 5, 100])
    sims = pair_similarities(bank.features, bank.features, rows, cols)
    x = bank.features.astype(np.float64)
    np.testing.assert_array_equal(
        sims, np.einsum('ij,ij->i', x[rows], x[cols]).astype(np.float32))


def test_fallback_without_faiss(bank, monkeypatch):
    with_faiss = knn_search(bank.features, 15, backend='faiss')
    monkeypatch.setitem(sys.modules, 'faiss', None)  # import faiss -> ImportError
    assert ns.import_faiss() is None
    assert resolve_backend('auto') in ('torch', 'numpy')
    with pytest.raises(ValueError, match='faiss'):
        resolve_backend('faiss')
    without = knn_search(bank.features, 15)
    np.testing.assert_array_equal(without[1], with_faiss[1])
    monkeypatch.setitem(sys.modules, 'torch', None)
    assert resolve_backend('auto') == 'numpy'
    numpy_only = knn_search(bank.features, 15)
    np.testing.assert_array_equal(numpy_only[1], with_faiss[1])
    np.testing.assert_array_equal(
        range_search(bank.features, 0.6).toarray(),
        range_search(bank.features, 0.6, backend='numpy').toarray())


def test_bad_input_is_named():
    features = np.ones((5, 4), dtype=np.float32)
    features[3, 1] = np.nan
    with pytest.raises(ValueError, match='row 3'):
        knn_search(features, 2)
    with pytest.raises(ValueError, match=r'\(N, d\)'):
        knn_search(np.ones(5), 2)
    with pytest.raises(ValueError, match='unknown'):
        knn_search(np.ones((5, 4)), 2, backend='cuda')
    with pytest.raises(ValueError, match='dimension'):
        knn_search(np.ones((5, 4)), 2, np.ones((2, 3)))
