"""Tests of mmssl.labels.hnsw_self_search."""
import numpy as np
import pytest

from mmssl.labels import build_approximate_index, knn_search, make_clustered_bank
from mmssl.labels.hnsw_self_search import hnsw_self_knn, is_hnsw_index

faiss = pytest.importorskip('faiss')


@pytest.fixture(scope='module')
def bank():
    return make_clustered_bank(1500, dim=32, seed=4)


def test_finds_the_same_neighbours_as_the_top_down_search(bank):
    index = build_approximate_index(bank.features, 'hnsw', hnsw_m=16,
                                    ef_construction=64, ef_search=64)
    assert is_hnsw_index(index)
    sims, ids = hnsw_self_knn(index, bank.features, 10, chunk_size=333)
    _, exact = knn_search(bank.features, 10)
    recall = np.mean([np.intersect1d(e, i).size / 10 for e, i in zip(exact, ids)])
    assert recall > 0.95
    assert (ids[:, 0] == np.arange(len(ids))).mean() > 0.99  # itself first
    rows = np.repeat(np.arange(len(ids)), 10)
    np.testing.assert_allclose(
        sims.ravel(),
        np.einsum('nd,nd->n', bank.features[rows], bank.features[ids.ravel()]),
        atol=1e-5)


def test_knn_search_uses_it_for_a_self_search(bank, monkeypatch):
    index = build_approximate_index(bank.features, 'hnsw')
    import mmssl.labels.neighbour_search as neighbour_search
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[2])
        return hnsw_self_knn(*args, **kwargs)

    monkeypatch.setattr(neighbour_search, 'hnsw_self_knn', spy)
    knn_search(bank.features, 5, index=index)
    assert len(calls) == 1
    knn_search(bank.features, 5, bank.features[:10], index=index)  # not a self-search
    assert len(calls) == 1
    ivf = build_approximate_index(bank.features, 'ivf', nlist=4)
    assert not is_hnsw_index(ivf)


def test_index_size_mismatch(bank):
    index = build_approximate_index(bank.features[:100], 'hnsw')
    with pytest.raises(ValueError, match='holds 100 rows'):
        hnsw_self_knn(index, bank.features, 5)
