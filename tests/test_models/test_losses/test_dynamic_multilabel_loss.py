"""DynamicMultiLabelLoss against the direct formula of Eq. 11."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

import mmssl.models.losses  # noqa: F401  (registers the losses)
from mmssl.models.losses import DynamicMultiLabelLoss, dynamic_multilabel_loss


def dense_to_csr(labels):
    """(N, N) 0/1 numpy matrix -> (indptr, indices) int64 tensors."""
    indptr = [0]
    indices = []
    for row in labels:
        cols = np.flatnonzero(row)
        indices.extend(cols.tolist())
        indptr.append(len(indices))
    return (torch.tensor(indptr, dtype=torch.long),
            torch.tensor(indices, dtype=torch.long))


def reference_ml(feats, memory, labels, rows, delta):
    """Eq. 11 term by term: (-1)^Y = -1 on positives, +1 on negatives."""
    f = F.normalize(feats.double(), dim=1)
    mem = memory.double()
    out = []
    for k, r in enumerate(rows.tolist()):
        pos = [p for p in range(mem.shape[0]) if labels[r, p]]
        neg = [v for v in range(mem.shape[0]) if not labels[r, v]]
        pos_term = sum(float((mem[p] @ f[k] + (-1)**1)**2) for p in pos)
        neg_term = sum(float((mem[v] @ f[k] + (-1)**0)**2) for v in neg)
        out.append((delta * pos_term / len(pos) if pos else 0.0) +
                   (neg_term / len(neg) if neg else 0.0))
    return np.array(out)


def make_case(num_rows=12, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.random((num_rows, num_rows)) < 0.25
    np.fill_diagonal(labels, True)  # self included
    labels[3] = True  # a row whose positives are all rows: |N_i| = 0
    labels[5] = False
    labels[5, 5] = True  # only itself
    gen = torch.Generator().manual_seed(seed)
    memory = F.normalize(torch.randn(num_rows, dim, generator=gen), dim=1)
    rows = torch.tensor([0, 3, 5, 7, 11, 5])
    feats = torch.randn(len(rows), dim, generator=gen) * 2.0  # not unit: renormalised
    return feats, memory, labels, rows


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('delta', [1.0, 5.0])
def test_matches_direct_formula(seed, delta):
    feats, memory, labels, rows = make_case(seed=seed)
    indptr, indices = dense_to_csr(labels)
    expected = reference_ml(feats, memory, labels, rows, delta)
    per = dynamic_multilabel_loss(feats, memory, indptr, indices, rows, delta=delta,
                                  reduction='none')
    np.testing.assert_allclose(per.numpy(), expected, rtol=1e-5, atol=1e-6)
    total = dynamic_multilabel_loss(feats, memory, indptr, indices, rows,
                                    delta=delta, reduction='sum')
    mean = dynamic_multilabel_loss(feats, memory, indptr, indices, rows,
                                   delta=delta, reduction='mean')
    assert total.item() == pytest.approx(expected.sum(), rel=1e-5)
    assert mean.item() == pytest.approx(expected.mean(), rel=1e-5)


def test_empty_positive_set_gives_negative_term_only():
    feats, memory, labels, rows = make_case(seed=2)
    labels[7] = False  # no positives at all for row 7
    indptr, indices = dense_to_csr(labels)
    per = dynamic_multilabel_loss(feats, memory, indptr, indices, rows,
                                  reduction='none')
    np.testing.assert_allclose(per.numpy(),
                               reference_ml(feats, memory, labels, rows, 5.0),
                               rtol=1e-5, atol=1e-6)


def test_gradient_flows_to_features_only():
    feats, memory, labels, rows = make_case(seed=3)
    indptr, indices = dense_to_csr(labels)
    feats.requires_grad_(True)
    dynamic_multilabel_loss(feats, memory, indptr, indices, rows).backward()
    assert feats.grad is not None and feats.grad.abs().sum() > 0
    assert memory.grad is None


def test_perfect_features_have_lower_loss():
    """Features equal to their positives' direction score lower than random ones."""
    num_rows, dim = 6, 8
    memory = torch.eye(num_rows, dim)
    labels = np.eye(num_rows, dtype=bool)
    indptr, indices = dense_to_csr(labels)
    rows = torch.arange(num_rows)
    good = dynamic_multilabel_loss(memory.clone(), memory, indptr, indices, rows)
    bad = dynamic_multilabel_loss(torch.roll(memory, 1, dims=0), memory, indptr,
                                  indices, rows)
    # own row: cos 1 -> positive term 0; others: cos 0 -> (0 + 1)^2 = 1
    assert good.item() == pytest.approx(1.0, rel=1e-6)
    assert bad.item() > good.item()


def test_module_registry_and_weight():
    loss = MODELS.build(dict(type='DynamicMultiLabelLoss', delta=2.0,
                             loss_weight=0.5, reduction='sum'))
    assert isinstance(loss, DynamicMultiLabelLoss)
    feats, memory, labels, rows = make_case(seed=4)
    indptr, indices = dense_to_csr(labels)
    assert loss(feats, memory, indptr, indices, rows).item() == pytest.approx(
        0.5 * reference_ml(feats, memory, labels, rows, 2.0).sum(), rel=1e-5)
    with pytest.raises(ValueError, match='reduction'):
        DynamicMultiLabelLoss(reduction='avg')


def test_empty_batch_and_bad_inputs():
    feats, memory, labels, rows = make_case(seed=5)
    indptr, indices = dense_to_csr(labels)
    empty = torch.zeros(0, memory.shape[1], requires_grad=True)
    out = dynamic_multilabel_loss(empty, memory, indptr, indices,
                                  torch.zeros(0, dtype=torch.long))
    assert out.item() == 0.0
    with pytest.raises(ValueError, match='positive_indptr'):
        dynamic_multilabel_loss(feats, memory, indptr[:-1], indices, rows)
    with pytest.raises(IndexError, match='out of range'):
        dynamic_multilabel_loss(feats, memory, indptr, indices,
                                torch.tensor([0, 1, 2, 3, 4, 99]))
    bad_indices = indices.clone()
    bad_indices[0] = 50
    with pytest.raises(IndexError, match='out of range'):
        dynamic_multilabel_loss(feats, memory, indptr, bad_indices, rows)
