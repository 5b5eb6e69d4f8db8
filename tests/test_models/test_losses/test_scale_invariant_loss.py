"""ScaleInvariantLoss against a direct loop over Eq. 2-4."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

import mmssl.models.losses  # noqa: F401  (registers the losses)
from mmssl.models.losses import ScaleInvariantLoss, scale_invariant_loss


def reference_scale_invariant(roi, exemplars, image_ids, margin, gamma):
    """Eq. 2-4 written out with Python loops (float64)."""
    roi = F.normalize(roi.double(), dim=-1)
    exemplars = F.normalize(exemplars.double(), dim=-1)
    num_scales = exemplars.shape[1]

    def dist(a, b):
        return float(((a - b)**2).sum())

    image_losses, hinge_states = [], []
    for image in sorted(set(image_ids.tolist())):
        persons = [i for i in range(len(image_ids)) if int(image_ids[i]) == image]
        terms = []
        for i in persons:
            hardest_pos = max(dist(roi[i], exemplars[i, s])
                              for s in range(1, num_scales))
            negatives = [dist(roi[i], exemplars[j, s]) for j in persons if j != i
                         for s in range(num_scales)]
            if negatives:
                raw = margin + hardest_pos - min(negatives)
                hinge_states.append(raw > 0)
                hinge = max(0.0, raw)
            else:
                hinge = 0.0
            terms.append(hinge + gamma * dist(roi[i], exemplars[i, 0]))
        image_losses.append(sum(terms) / len(terms))
    return sum(image_losses) / len(image_losses), hinge_states


def make_batch(counts, num_scales=4, dim=16, noise=0.4, seed=0, shuffle=True):
    """Persons of len(counts) images; exemplars are noisy copies of the RoI feature."""
    gen = torch.Generator().manual_seed(seed)
    total = sum(counts)
    roi = F.normalize(torch.randn(total, dim, generator=gen), dim=-1)
    exemplars = roi[:, None, :] + noise * torch.randn(total, num_scales, dim,
                                                      generator=gen)
    image_ids = torch.cat([torch.full((c, ), b) for b, c in enumerate(counts)])
    if shuffle:  # persons of one image need not be contiguous
        perm = torch.randperm(total, generator=gen)
        roi, exemplars, image_ids = roi[perm], exemplars[perm], image_ids[perm]
    return roi, exemplars, image_ids * 7 + 3  # arbitrary, non-contiguous ids


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_direct_loop_over_eq2(seed):
    roi, exemplars, image_ids = make_batch([3, 1, 5, 2], seed=seed)
    expected, hinge_states = reference_scale_invariant(roi, exemplars, image_ids,
                                                       0.3, 0.05)
    # the inputs exercise both sides of the hinge
    assert any(hinge_states) and not all(hinge_states)
    got = scale_invariant_loss(roi, exemplars, image_ids, margin=0.3, gamma=0.05)
    assert got.item() == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_renormalises_inputs():
    roi, exemplars, image_ids = make_batch([2, 3], seed=4)
    a = scale_invariant_loss(roi, exemplars, image_ids)
    b = scale_invariant_loss(roi * 3.0, exemplars * 0.5, image_ids)
    assert a.item() == pytest.approx(b.item(), rel=1e-5)


def test_single_person_image_keeps_only_gamma_term():
    roi, exemplars, image_ids = make_batch([1], seed=5)
    f = F.normalize(roi, dim=-1)[0]
    fo = F.normalize(exemplars, dim=-1)[0, 0]
    got = scale_invariant_loss(roi, exemplars, image_ids, margin=0.3, gamma=0.05)
    assert got.item() == pytest.approx(0.05 * float(((f - fo)**2).sum()), rel=1e-5)


def test_batch_is_mean_of_images_eq4():
    """Eq. 4: negatives come from the same image only; images are averaged."""
    roi, exemplars, image_ids = make_batch([4, 2], seed=6, shuffle=False)
    first, second = image_ids == image_ids[0], image_ids != image_ids[0]
    both = scale_invariant_loss(roi, exemplars, image_ids)
    loss_a = scale_invariant_loss(roi[first], exemplars[first], image_ids[first])
    loss_b = scale_invariant_loss(roi[second], exemplars[second], image_ids[second])
    assert both.item() == pytest.approx((loss_a.item() + loss_b.item()) / 2,
                                        rel=1e-5)


def test_gradients_reach_both_branches():
    roi, exemplars, image_ids = make_batch([3, 2, 1], seed=7)
    roi.requires_grad_(True)
    exemplars.requires_grad_(True)
    scale_invariant_loss(roi, exemplars, image_ids).backward()
    assert roi.grad is not None and roi.grad.abs().sum() > 0
    assert exemplars.grad is not None and exemplars.grad.abs().sum() > 0
    assert torch.isfinite(roi.grad).all() and torch.isfinite(exemplars.grad).all()


def test_gradcheck_double():
    roi, exemplars, image_ids = make_batch([2, 1, 2], num_scales=3, dim=4, seed=8)
    roi = roi.double().requires_grad_(True)
    exemplars = exemplars.double().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda r, e: scale_invariant_loss(r, e, image_ids), (roi, exemplars),
        fast_mode=True)


def test_module_registry_weight_and_empty():
    loss = MODELS.build(dict(type='ScaleInvariantLoss', loss_weight=2.0))
    assert isinstance(loss, ScaleInvariantLoss)
    roi, exemplars, image_ids = make_batch([2, 3], seed=9)
    assert loss(roi, exemplars, image_ids).item() == pytest.approx(
        2.0 * scale_invariant_loss(roi, exemplars, image_ids).item(), rel=1e-6)
    empty_roi = torch.zeros(0, 16, requires_grad=True)
    empty = loss(empty_roi, torch.zeros(0, 4, 16), torch.zeros(0, dtype=torch.long))
    assert empty.item() == 0.0
    empty.backward()
    assert empty_roi.grad is not None


@pytest.mark.parametrize('shapes', [
    ((3, 8), (3, 4, 7), (3, )),
    ((3, 8), (2, 4, 8), (3, )),
    ((3, 8), (3, 1, 8), (3, )),
    ((3, 8), (3, 4, 8), (2, )),
])
def test_bad_shapes_raise(shapes):
    roi_shape, ex_shape, ids_shape = shapes
    with pytest.raises(ValueError, match='scale_invariant_loss'):
        scale_invariant_loss(torch.randn(roi_shape), torch.randn(ex_shape),
                             torch.zeros(ids_shape, dtype=torch.long))
