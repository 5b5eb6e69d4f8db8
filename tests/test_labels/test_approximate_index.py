import numpy as np
import pytest

from mmssl.labels.approximate_index import (build_approximate_index,
                                            default_nlist, knn_recall,
                                            range_recall)
from mmssl.labels.neighbour_search import knn_search, range_search
from mmssl.labels.synthetic_features import make_clustered_bank


@pytest.fixture(scope='module')
def bank():
    return make_clustered_bank(3000, dim=32, seed=5)


def test_ivf_probing_every_list_is_exact(bank):
    index = build_approximate_index(bank.features, 'ivf', nlist=16, nprobe=16)
    approx = knn_search(bank.features, 10, index=index)
    exact = knn_search(bank.features, 10)
    np.testing.assert_array_equal(approx[1], exact[1])
    assert knn_recall(bank.features, approx[1], sample_size=200) == 1.0


def test_ivf_one_probe_loses_neighbours_and_recall_says_so(bank):
    index = build_approximate_index(bank.features, 'ivf', nlist=64, nprobe=1)
    _, ids = knn_search(bank.features, 10, index=index)
    recall = knn_recall(bank.features, ids, sample_size=300)
    assert 0.2 < recall < 0.999
    found = range_search(bank.features, 0.5, index=index)
    exact = range_search(bank.features, 0.5)
    assert found.nnz < exact.nnz
    rrecall = range_recall(bank.features, found, 0.5, sample_size=3000)
    assert rrecall == pytest.approx(found.nnz / exact.nnz)


def test_hnsw(bank):
    index = build_approximate_index(bank.features, 'hnsw', hnsw_m=16,
                                    ef_search=64)
    _, ids = knn_search(bank.features, 10, index=index)
    assert knn_recall(bank.features, ids, sample_size=300) > 0.9


def test_default_nlist_and_errors(bank):
    assert default_nlist(1_000_000) == 4000
    assert default_nlist(100) == 2
    with pytest.raises(ValueError, match='unknown approximate'):
        build_approximate_index(bank.features, 'lsh')
