import numpy as np
import pytest
import torch

import mmssl.labels.neighbour_search as ns
from mmssl.labels.neighbour_search import (NeighbourSearch, as_search, knn_search,
                                           range_search, range_search_from_knn)
from mmssl.labels.synthetic_features import make_clustered_bank

PRECISIONS = [torch.bfloat16, torch.float32]


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


@pytest.fixture(params=PRECISIONS, ids=['bfloat16', 'float32'])
def precision(request, monkeypatch):
    """Proposals in each precision, in many blocks (so the block loop runs)."""
    monkeypatch.setattr(ns, 'proposal_dtype', lambda device: request.param)
    monkeypatch.setattr(ns, 'BLOCK_ELEMENTS', 64 * 600)
    return request.param


def test_knn_equals_brute_force(bank, precision):
    sims, ids = knn_search(bank.features, 30)
    ref_sims, ref_ids = brute_knn(bank.features, 30)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(sims, ref_sims)


def test_rows_that_need_more_candidates_are_searched_again(bank, monkeypatch):
    # one extra candidate in bfloat16: most rows cannot be settled at first
    monkeypatch.setattr(ns, 'proposal_dtype', lambda device: torch.bfloat16)
    monkeypatch.setattr(ns, 'EXTRA_CANDIDATES', {torch.bfloat16: 1})
    calls = []
    propose = NeighbourSearch._propose_knn

    def counting(self, queries, query, rows, k):
        calls.append((len(rows), k))
        return propose(self, queries, query, rows, k)

    monkeypatch.setattr(NeighbourSearch, '_propose_knn', counting)
    sims, ids = knn_search(bank.features, 30)
    assert len(calls) > 1 and calls[1][0] < calls[0][0]  # only unsettled rows
    assert calls[1][1] == 2 * calls[0][1]
    ref_sims, ref_ids = brute_knn(bank.features, 30)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(sims, ref_sims)


def test_knn_other_queries(bank, precision):
    queries = bank.features[::7] * 0.5 + bank.features[1::7][:len(
        bank.features[::7])] * 0.5
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    sims, ids = knn_search(bank.features, 12, queries)
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


@pytest.mark.parametrize('threshold', [0.5, 0.65])
def test_range_equals_brute_force(bank, precision, threshold):
    found = range_search(bank.features, threshold)
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


def test_one_validation_shared_by_every_search(bank, monkeypatch):
    search = NeighbourSearch(bank.features)
    checks = []
    monkeypatch.setattr(ns, 'check_features',
                        lambda *args: checks.append(args) or args[0])
    assert as_search(search) is search
    knn = knn_search(search, 10)
    range_search_from_knn(search, 0.6, *knn)
    assert checks == []  # rows validated once, when the search was built
    approximate = NeighbourSearch(search, index=object())
    assert approximate.approximate and approximate.features is search.features
    assert not NeighbourSearch(approximate).approximate
    assert checks == []


def test_bad_input_is_named():
    features = np.ones((5, 4), dtype=np.float32)
    features[3, 1] = np.nan
    with pytest.raises(ValueError, match='row 3'):
        knn_search(features, 2)
    with pytest.raises(ValueError, match=r'\(N, d\)'):
        knn_search(np.ones(5), 2)
    with pytest.raises(ValueError, match='unknown'):
        knn_search(np.ones((5, 4)), 2, backend='faiss')
    with pytest.raises(ValueError, match='dimension'):
        knn_search(np.ones((5, 4)), 2, np.ones((2, 3)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_knn_and_range_on_the_gpu_equal_brute_force(bank, monkeypatch):
    # TF32 on in the caller must not leak into the search's products
    monkeypatch.setattr(torch.backends.cuda.matmul, 'allow_tf32', True)
    search = NeighbourSearch(bank.features)
    sims, ids = search.knn(30)
    assert search._database.matrix.is_cuda
    ref_sims, ref_ids = brute_knn(bank.features, 30)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(sims, ref_sims)
    ref = brute_similarity(bank.features)
    np.testing.assert_array_equal(search.range(0.6).toarray(),
                                  np.where(ref >= 0.6, ref, 0))
    assert torch.backends.cuda.matmul.allow_tf32  # restored
