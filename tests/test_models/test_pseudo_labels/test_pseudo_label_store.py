"""PseudoLabelStore: set/validate, CSR accessors, resize and checkpoints."""
import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.runner.checkpoint import load_state_dict as mmengine_load_state_dict

from mmssl.models.pseudo_labels import PseudoLabelStore

# positive sets of 5 rows, self included
POSITIVES = [[0, 3], [1], [2, 4, 0], [3, 0], [4, 2]]


def csr(positives):
    indptr = np.cumsum([0] + [len(p) for p in positives]).astype(np.int64)
    indices = np.array([c for p in positives for c in p], dtype=np.int64)
    return indptr, indices


def filled_store():
    store = PseudoLabelStore(num_samples=5)
    indptr, indices = csr(POSITIVES)
    store.set(np.array([0, -1, 1, 0, 1]), indptr, indices, epoch=3, threshold=0.674)
    return store


def test_initial_state_and_registry():
    store = MODELS.build(dict(type='PseudoLabelStore', num_samples=4))
    assert isinstance(store, PseudoLabelStore)
    assert store.cluster_labels.tolist() == [-1] * 4
    assert store.multilabel_indptr.tolist() == [0] * 5
    assert store.multilabel_indices.numel() == 0
    assert not store.has_labels and not store.has_cluster_labels
    assert int(store.epoch) == -1 and torch.isnan(store.threshold)
    assert set(store.state_dict()) == {'cluster_labels', 'multilabel_indptr',
                                       'multilabel_indices', 'epoch', 'threshold'}


def test_set_and_accessors():
    store = filled_store()
    assert store.has_labels and store.has_cluster_labels
    assert store.cluster_labels.dtype == torch.long
    assert store.cluster_labels.tolist() == [0, -1, 1, 0, 1]
    assert int(store.epoch) == 3
    assert float(store.threshold) == pytest.approx(0.674)
    slices = store.positives(torch.tensor([2, 1, 2]))
    assert [s.tolist() for s in slices] == [[2, 4, 0], [1], [2, 4, 0]]
    indptr, indices = store.positives_csr([4, 0])
    assert indptr.tolist() == [0, 2, 4] and indices.tolist() == [4, 2, 0, 3]
    with pytest.raises(IndexError, match='row 5'):
        store.positives([5])


def test_set_without_cluster_labels_grows_store():
    store = PseudoLabelStore()
    indptr, indices = csr(POSITIVES)
    store.set(None, torch.as_tensor(indptr), torch.as_tensor(indices), 0, 0.7)
    assert store.num_samples == 5 and store.has_labels
    assert not store.has_cluster_labels


@pytest.mark.parametrize('change, message', [
    (lambda ip, ix, lab: (ip[:-1], ix, lab), r'indptr has shape \(5,\)'),
    (lambda ip, ix, lab: (ip, np.where(ix == 4, 9, ix), lab),
     'row 2 has column 9 out of range'),
    (lambda ip, ix, lab: (np.array([0, 3, 1, 5, 7, 10]), ix, lab),
     'indptr decreases at row 1'),
    (lambda ip, ix, lab: (ip, ix[:-1], lab), 'indptr.* 9 indices'),
    (lambda ip, ix, lab: (ip, ix, np.array([0, -2, 1, 0, 1])),
     'cluster label -2 of row 1'),
])
def test_set_rejects_bad_labels(change, message):
    store = filled_store()
    indptr, indices = csr(POSITIVES)
    indptr, indices, labels = change(indptr, indices, np.array([0, 0, 1, 0, 1]))
    with pytest.raises(ValueError, match=message):
        store.set(labels, indptr, indices, epoch=4, threshold=0.7)
    # a failed set leaves the previous labels alone
    assert int(store.epoch) == 3 and store.cluster_labels.tolist() == [0, -1, 1, 0, 1]


def test_set_rejects_negative_epoch():
    indptr, indices = csr(POSITIVES)
    with pytest.raises(ValueError, match='epoch'):
        PseudoLabelStore().set(None, indptr, indices, epoch=-1, threshold=0.7)


def test_resize_and_clear_keep_identity():
    store = filled_store()
    labels_buffer = store.cluster_labels
    store.clear()
    assert store.num_samples == 5 and not store.has_labels
    assert store.multilabel_indptr.tolist() == [0] * 6
    store.resize(8)
    assert store.cluster_labels is labels_buffer
    assert store.cluster_labels.shape == (8, )
    assert store.multilabel_indptr.shape == (9, )


def test_checkpoint_round_trip_into_empty_store(tmp_path):
    source = filled_store()
    path = tmp_path / 'labels.pth'
    torch.save(source.state_dict(), path)
    state = torch.load(path, weights_only=True)
    target = PseudoLabelStore()
    target.load_state_dict(state)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    other = PseudoLabelStore(num_samples=11)
    mmengine_load_state_dict(other, state, strict=True)
    assert [s.tolist() for s in other.positives([0, 2])] == [[0, 3], [2, 4, 0]]
    assert other.has_labels


def test_broadcast_without_distribution_is_a_no_op():
    store = filled_store()
    store.broadcast()
    assert store.cluster_labels.tolist() == [0, -1, 1, 0, 1]
