"""ClusterContrastLoss, cluster_centroids and the instance-level contrast."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

import mmssl.models.losses  # noqa: F401  (registers the losses)
from mmssl.models.losses import (ClusterContrastLoss, cluster_centroids,
                                 cluster_contrast_loss, singleton_outlier_labels)


def reference_count(feats, centroids, targets, tau, ratio):
    """Per-row loop: keep the top ceil(ratio * (C - 1)) negatives."""
    logits = (F.normalize(feats.double(), dim=1) @ centroids.double().t() / tau)
    out = []
    for z, y in zip(logits, targets.tolist()):
        negatives = sorted((float(z[k]) for k in range(len(z)) if k != y),
                           reverse=True)
        keep = math.ceil(round(ratio * len(negatives), 9))
        kept = [float(z[y])] + negatives[:keep]
        out.append(np.logaddexp.reduce(kept) - float(z[y]))
    return np.array(out)


def reference_mass(feats, centroids, targets, tau, ratio):
    """CGPS-style: threshold on the negatives' softmax share (numpy, float64)."""
    logits = (F.normalize(feats.double(), dim=1) @ centroids.double().t() /
              tau).numpy()
    return np.array([mass_rule_loss(z, y, ratio)
                     for z, y in zip(logits, targets.tolist())])


def mass_rule_loss(z, y, ratio):
    """One sample's loss over logits ``z`` with target ``y``, keeping the hardest
    negatives whose share of the negatives' softmax mass is closest to ``ratio``."""
    exps = np.exp(z - z.max())
    neg = np.delete(exps, y)
    share = np.sort(neg / neg.sum())[::-1]
    cut = np.argmin(np.abs(np.cumsum(share) - ratio))
    kept = neg[neg / neg.sum() >= share[cut]]
    return -np.log(exps[y] / (exps[y] + kept.sum()))


def make_case(num_clusters=9, q=7, dim=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    centroids = F.normalize(torch.randn(num_clusters, dim, generator=gen), dim=1)
    targets = torch.randint(0, num_clusters, (q, ), generator=gen)
    feats = centroids[targets] + 0.8 * torch.randn(q, dim, generator=gen)
    return feats, centroids, targets


@pytest.mark.parametrize('selection,reference,num_clusters,seed,tau,ratio', [
    ('count', reference_count, 9, 1, 0.05, 0.1),
    ('count', reference_count, 9, 1, 0.05, 0.6),
    ('count', reference_count, 9, 1, 0.05, 1.0),
    ('mass', reference_mass, 30, 3, 0.2, 0.3),
    ('mass', reference_mass, 30, 3, 0.2, 0.6),
], ids=['count-0.1', 'count-0.6', 'count-1.0', 'mass-0.3', 'mass-0.6'])
def test_selection_matches_reference(selection, reference, num_clusters, seed,
                                     tau, ratio):
    """``'count'`` matches the per-row loop, ``'mass'`` CGPS's rule."""
    feats, centroids, targets = make_case(num_clusters=num_clusters, seed=seed)
    got = cluster_contrast_loss(feats, centroids, targets, temperature=tau,
                                hard_negative_ratio=ratio,
                                negative_selection=selection, reduction='none')
    np.testing.assert_allclose(got.numpy(),
                               reference(feats, centroids, targets, tau, ratio),
                               rtol=1e-5, atol=1e-5)


def test_ratio_one_is_plain_cross_entropy():
    feats, centroids, targets = make_case(seed=2)
    logits = F.normalize(feats, dim=1) @ centroids.t() / 0.05
    got = cluster_contrast_loss(feats, centroids, targets, hard_negative_ratio=1.0)
    assert got.item() == pytest.approx(F.cross_entropy(logits, targets).item(),
                                       rel=1e-5)
    # fewer negatives in the denominator can only lower the loss
    for selection in ('mass', 'count'):
        fewer = cluster_contrast_loss(feats, centroids, targets,
                                      hard_negative_ratio=0.3,
                                      negative_selection=selection)
        assert fewer.item() < got.item()


def test_gradients_and_module():
    loss = MODELS.build(dict(type='ClusterContrastLoss', loss_weight=0.5))
    assert isinstance(loss, ClusterContrastLoss)
    assert loss.negative_selection == 'mass' and not loss.normalize_centroids
    feats, centroids, targets = make_case(seed=4)
    feats.requires_grad_(True)
    value = loss(feats, centroids, targets)
    assert value.item() == pytest.approx(
        0.5 * reference_mass(feats.detach(), centroids, targets, 0.05, 0.6).mean(),
        rel=1e-5)
    value.backward()
    assert feats.grad is not None and feats.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='negative_selection'):
        ClusterContrastLoss(negative_selection='top')
    with pytest.raises(ValueError, match='hard_negative_ratio'):
        ClusterContrastLoss(hard_negative_ratio=0.0)


def test_single_cluster_and_bad_targets():
    feats, centroids, _ = make_case(num_clusters=1, seed=5)
    targets = torch.zeros(feats.shape[0], dtype=torch.long)
    assert cluster_contrast_loss(feats, centroids, targets).item() == 0.0
    with pytest.raises(IndexError, match='out of range'):
        cluster_contrast_loss(feats, centroids, targets + 1)


def test_cluster_centroids_against_loop():
    gen = torch.Generator().manual_seed(6)
    memory = torch.randn(20, 8, generator=gen) * 3.0
    labels = torch.randint(0, 5, (20, ), generator=gen)
    labels[:5] = torch.arange(5)  # every cluster has a member
    got = cluster_centroids(memory, labels)
    unit_centroids = cluster_centroids(memory, labels, normalize=True)
    unit = F.normalize(memory, dim=1)
    for k in range(5):
        mean = unit[labels == k].mean(0)
        torch.testing.assert_close(got[k], mean, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(unit_centroids[k], F.normalize(mean, dim=0),
                                   rtol=1e-5, atol=1e-6)
    assert got.shape == (5, 8)
    # CGPS's plain mean: shorter than 1 for any cluster of distinct rows
    assert bool((got.norm(dim=1) < 1 - 1e-4).all())


def test_outliers_become_singletons():
    gen = torch.Generator().manual_seed(7)
    memory = F.normalize(torch.randn(7, 4, generator=gen), dim=1)
    labels = torch.tensor([0, -1, 1, 0, -1, 1, -1])
    relabelled = singleton_outlier_labels(labels)
    assert relabelled.tolist() == [0, 2, 1, 0, 3, 1, 4]
    centroids = cluster_centroids(memory, relabelled)
    assert centroids.shape == (5, 4)
    for row, label in ((1, 2), (4, 3), (6, 4)):
        torch.testing.assert_close(centroids[label], memory[row])
    assert singleton_outlier_labels(torch.tensor([-1, -1])).tolist() == [0, 1]
    with pytest.raises(ValueError, match='singleton_outlier_labels'):
        cluster_centroids(memory, labels)
    with pytest.raises(ValueError, match='no member'):
        cluster_centroids(memory, torch.tensor([0, 0, 2, 2, 2, 0, 0]))


def test_instance_level_contrast_before_pseudo_labels():
    """Centroids = the memory, targets = instance indices: each box its own class."""
    gen = torch.Generator().manual_seed(8)
    memory = F.normalize(torch.randn(40, 16, generator=gen), dim=1)
    rows = torch.tensor([3, 17, 25, 39])
    feats = memory[rows] + 0.5 * torch.randn(4, 16, generator=gen)
    got = cluster_contrast_loss(feats, memory, rows, negative_selection='count',
                                reduction='none')
    np.testing.assert_allclose(got.numpy(),
                               reference_count(feats, memory, rows, 0.05, 0.6),
                               rtol=1e-5, atol=1e-5)
    # the same loss through cluster_centroids with one cluster per row
    through_centroids = cluster_contrast_loss(
        feats, cluster_centroids(memory, torch.arange(40)), rows,
        negative_selection='count', reduction='none')
    torch.testing.assert_close(through_centroids, got, rtol=1e-5, atol=1e-5)
    # features at their own memory row score lower than features at another row
    own = cluster_contrast_loss(memory[rows], memory, rows)
    other = cluster_contrast_loss(memory[(rows + 1) % 40], memory, rows)
    assert own.item() < other.item()


def test_tied_negatives_count_once_each():
    """Zero (never written) memory rows tie at logit 0: exactly k of them count."""
    gen = torch.Generator().manual_seed(9)
    centroids = torch.cat([F.normalize(torch.randn(4, 8, generator=gen), dim=1),
                           torch.zeros(7, 8)])
    targets = torch.tensor([0, 1, 2, 3, 3])
    feats = torch.randn(5, 8, generator=gen)
    for ratio in (0.3, 0.5, 0.9):
        got = cluster_contrast_loss(feats, centroids, targets,
                                    hard_negative_ratio=ratio,
                                    negative_selection='count', reduction='none')
        np.testing.assert_allclose(got.numpy(),
                                   reference_count(feats, centroids, targets, 0.05,
                                                   ratio), rtol=1e-5, atol=1e-5)


def cgps_reference(feats, memory, labels, rows, tau, top_percent):
    """A loop transcription of CGPS's cluster loss (float64): the cluster logit is
    the mean of the member logits ``f . M[i] / tau``, then the hardest negatives
    up to ``top_percent`` of the negatives' softmax mass are kept."""
    f = F.normalize(feats.double(), dim=1).numpy()
    m = memory.double().numpy()
    labels = labels.numpy()
    num_clusters = labels.max() + 1
    out = []
    for feat, row in zip(f, rows.tolist()):
        member_logits = m @ feat / tau
        z = np.array([member_logits[labels == k].mean()
                      for k in range(num_clusters)])
        out.append(mass_rule_loss(z, labels[row], top_percent))
    return np.array(out)


def test_default_loss_is_cgps_cluster_loss():
    """ClusterContrastLoss() on cluster_centroids() equals CGPS's computation."""
    gen = torch.Generator().manual_seed(10)
    prototypes = F.normalize(torch.randn(12, 16, generator=gen), dim=1)
    labels = torch.cat([torch.arange(12), torch.randint(0, 12, (48, ),
                                                        generator=gen)])
    memory = F.normalize(prototypes[labels] +
                         0.6 * torch.randn(60, 16, generator=gen), dim=1)
    rows = torch.tensor([0, 5, 13, 30, 59])
    feats = memory[rows] + 0.3 * torch.randn(5, 16, generator=gen)
    loss = ClusterContrastLoss(reduction='none')
    got = loss(feats, cluster_centroids(memory, labels), labels[rows])
    np.testing.assert_allclose(got.numpy(),
                               cgps_reference(feats, memory, labels, rows, 0.05,
                                              0.6), rtol=1e-5, atol=1e-5)
    # re-normalised centroids are another loss
    renormalised = ClusterContrastLoss(normalize_centroids=True, reduction='none')(
        feats, cluster_centroids(memory, labels), labels[rows])
    assert not torch.allclose(renormalised, got, rtol=1e-3)


def test_mass_and_count_keep_different_negatives():
    """One negative far harder than the rest carries most of the softmax mass:
    the mass rule keeps it alone, the count rule keeps 60% of all negatives."""
    centroids = torch.eye(6)
    centroids[0, 0] = 5.0  # logits (tau = 1): positive 5, one negative 4, four 0
    centroids[1, :2] = torch.tensor([4.0, 3.0])
    feats = torch.tensor([[1.0, 0, 0, 0, 0, 0]])
    targets = torch.tensor([0])
    logits = feats @ centroids.t()
    hard_only = torch.logsumexp(logits[0, :2], 0) - logits[0, 0]
    count_kept = torch.logsumexp(logits[0, :4], 0) - logits[0, 0]  # ceil(0.6 * 5) = 3
    mass = cluster_contrast_loss(feats, centroids, targets, temperature=1.0)
    count = cluster_contrast_loss(feats, centroids, targets, temperature=1.0,
                                  negative_selection='count')
    assert mass.item() == pytest.approx(hard_only.item(), rel=1e-6)
    assert count.item() == pytest.approx(count_kept.item(), rel=1e-6)
    assert count.item() > mass.item()
