import numpy as np
import pytest

from mmssl.labels.dense_reference import (dense_jaccard_distance,
                                          dense_multilabels,
                                          dense_self_paced_labels)
from mmssl.labels.dynamic_threshold import dynamic_threshold
from mmssl.labels.pairwise_metrics import pairwise_precision_recall
from mmssl.labels.pseudo_label_generator import generate_pseudo_labels
from mmssl.labels.synthetic_features import make_clustered_bank


@pytest.fixture(scope='module')
def bank():
    return make_clustered_bank(800, dim=32, seed=31)


def test_matches_the_dense_pipeline(bank):
    first = generate_pseudo_labels(bank.features, bank.image_ids, epoch=0)
    dense = dense_jaccard_distance(bank.features)
    labels, threshold = dense_self_paced_labels(dense)
    np.testing.assert_array_equal(first.cluster_labels, labels)
    assert first.independence_threshold == threshold
    assert first.threshold == pytest.approx(0.7)
    np.testing.assert_array_equal(
        first.multilabels.toarray() > 0,
        dense_multilabels(bank.features, bank.image_ids, 0.7))

    later = generate_pseudo_labels(bank.features, bank.image_ids, epoch=12,
                                   independence_threshold=threshold,
                                   same_image_rule=True)
    assert later.independence_threshold == threshold
    assert later.threshold == pytest.approx(dynamic_threshold(12))
    labels, _ = dense_self_paced_labels(dense, independence_threshold=threshold,
                                        features=bank.features,
                                        image_ids=bank.image_ids,
                                        same_image_rule=True)
    np.testing.assert_array_equal(later.cluster_labels, labels)
    # a lower threshold finds more positives
    assert later.num_multilabel_pairs > first.num_multilabel_pairs


def test_result_fields(bank):
    calls = []
    result = generate_pseudo_labels(
        bank.features, bank.image_ids, epoch=5,
        step_callback=lambda name, seconds: calls.append((name, seconds)))
    assert [name for name, _ in calls] == ['knn', 'multilabels', 'jaccard',
                                           'dbscan']
    assert all(seconds == result.timings[name] for name, seconds in calls)
    num = len(bank.features)
    assert result.cluster_labels.shape == (num,)
    assert result.multilabels.shape == (num, num)
    assert (result.multilabels.diagonal() == 1).all()
    assert result.multilabel_indptr.dtype == np.int64
    assert result.multilabel_indices.dtype == np.int64
    assert result.num_multilabel_pairs == result.multilabels.nnz - num
    counts = np.bincount(result.cluster_labels)
    assert result.num_clusters == (counts > 1).sum()
    assert result.num_singletons == (counts == 1).sum()
    assert set(result.timings) == {'knn', 'multilabels', 'jaccard', 'dbscan',
                                   'total'}
    assert result.search == 'exact' and result.neighbour_recall is None
    assert pairwise_precision_recall(result.multilabels,
                                     bank.person_ids).precision > 0.5


def test_approximate_search(bank):
    result = generate_pseudo_labels(
        bank.features, bank.image_ids, epoch=0, search='ivf',
        index_options=dict(nlist=8, nprobe=8), recall_sample=100)
    assert result.search == 'ivf'
    assert result.neighbour_recall == 1.0  # every list probed: exact
    exact = generate_pseudo_labels(bank.features, bank.image_ids, epoch=0)
    np.testing.assert_array_equal(result.cluster_labels, exact.cluster_labels)
    assert 'recall' in result.timings


@pytest.fixture
def one_faiss_thread():
    """HNSW builds are deterministic with one thread."""
    faiss = pytest.importorskip('faiss')
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


def test_refinement_raises_the_recall_of_a_weak_index(bank, one_faiss_thread):
    # a deliberately poor HNSW graph misses neighbours; the join finds some back
    # (measured, one thread: kNN recall 0.42 -> 0.60)
    options = dict(hnsw_m=4, ef_construction=8, ef_search=8)
    weak = generate_pseudo_labels(bank.features, bank.image_ids, epoch=0,
                                  search='hnsw', index_options=options,
                                  refine_rounds=0, recall_sample=200)
    refined = generate_pseudo_labels(bank.features, bank.image_ids, epoch=0,
                                     search='hnsw', index_options=options,
                                     refine_rounds=1, recall_sample=200)
    assert weak.neighbour_recall < 0.6
    assert refined.neighbour_recall > weak.neighbour_recall + 0.1


def test_errors(bank):
    with pytest.raises(ValueError, match='eps'):
        generate_pseudo_labels(bank.features, bank.image_ids, 0, eps=(0.5, 1.0,
                                                                      0.7))
    with pytest.raises(ValueError, match='unknown search'):
        generate_pseudo_labels(bank.features, bank.image_ids, 0, search='lsh')
    with pytest.raises(ValueError, match='image_ids'):
        generate_pseudo_labels(bank.features, bank.image_ids[:-1], 0)
