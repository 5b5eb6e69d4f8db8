"""The scale-invariant loss of SSL, Eq. 2-4, as a plain function.

Plain torch; no mmdet import.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


def squared_euclidean_unit(a: Tensor, b: Tensor) -> Tensor:
    """``D(a, b) = ||a - b||^2`` for unit vectors, as ``2 - 2 a.b`` (clamped at 0).

    Args:
        a: ``(..., d)`` unit rows.
        b: ``(..., d)`` unit rows, broadcastable against ``a``.
    """
    return (2.0 - 2.0 * (a * b).sum(-1)).clamp_min(0.0)


def scale_invariant_loss(roi_feats: Tensor, exemplar_feats: Tensor,
                         image_ids: Tensor, margin: float = 0.3,
                         gamma: float = 0.05) -> Tensor:
    """Scale-invariant loss ``L_scale`` (Eq. 2-4).

    For person ``i`` of image ``b`` (Eq. 2, with the distances of Eq. 3)::

        l_i = [m + max_{s=1..K} D(f_i, f_i^s)
                 - min_{j != i in b, s=1..K+1} D(f_i, f_j^s)]_+ + gamma * D(f_i, f_i^o)

    ``D`` is the squared euclidean distance between L2-normalised features: every
    input is re-normalised here (a no-op for unit features, which the paper
    requires), so ``D = 2 - 2 cos``. The hardest negative ranges over all ``K + 1``
    exemplars (original scale included) of the *other* persons of the same image.
    ``L^b`` averages ``l_i`` over the persons of image ``b`` (Eq. 2) and the loss
    averages ``L^b`` over the images present in ``image_ids`` (Eq. 4; an image
    without persons has no ``L^b`` and does not count).

    An image with a single person has no negative: its hinge term is dropped and
    only ``gamma * D(f_i, f_i^o)`` remains (keeping the original-scale tie without
    inventing a negative).

    Gradients flow to both ``roi_feats`` and ``exemplar_feats`` (both branches share
    the network).

    Args:
        roi_feats: ``(P, d)`` main-branch features ``f_i`` of the ground-truth
            persons of the batch.
        exemplar_feats: ``(P, K + 1, d)``; ``[:, 0]`` is the original-scale exemplar
            ``f_i^o``, ``[:, 1:]`` the ``K`` resized exemplars ``f_i^1..f_i^K``.
        image_ids: ``(P,)`` integer image of each person within the batch.
        margin: ``m`` (paper: 0.3).
        gamma: ``gamma`` (paper: 0.05).

    Returns:
        Scalar loss (0, still attached to the inputs, when ``P == 0``).
    """
    if roi_feats.dim() != 2:
        raise ValueError(f'scale_invariant_loss: roi_feats has shape '
                         f'{tuple(roi_feats.shape)}, expected (P, d)')
    num_persons, dim = roi_feats.shape
    if (exemplar_feats.dim() != 3 or exemplar_feats.shape[0] != num_persons
            or exemplar_feats.shape[2] != dim or exemplar_feats.shape[1] < 2):
        raise ValueError(f'scale_invariant_loss: exemplar_feats has shape '
                         f'{tuple(exemplar_feats.shape)}, expected ({num_persons}, '
                         f'K + 1, {dim}) with K >= 1')
    if image_ids.dim() != 1 or image_ids.numel() != num_persons:
        raise ValueError(f'scale_invariant_loss: image_ids has shape '
                         f'{tuple(image_ids.shape)}, expected ({num_persons},)')
    if num_persons == 0:
        return roi_feats.sum() * 0.0 + exemplar_feats.sum() * 0.0

    feats = F.normalize(roi_feats, dim=-1)  # f_i
    exemplars = F.normalize(exemplar_feats, dim=-1)  # f_i^o, f_i^1..f_i^K
    num_scales = exemplars.shape[1]  # K + 1

    # own exemplars, D(f_i, f_i^s) for s = o, 1..K: (P, K + 1)
    own = squared_euclidean_unit(feats[:, None, :], exemplars)
    original_term = own[:, 0]  # D_o^{i->i}
    hardest_positive = own[:, 1:].max(dim=1).values  # max_s D_s^{i->i}

    # every person against every exemplar: (P, P, K + 1), D(f_i, f_j^s)
    cross = (2.0 - 2.0 * torch.einsum('id,jsd->ijs', feats, exemplars)).clamp_min(0.0)
    image_ids = image_ids.to(feats.device)
    other_person_same_image = (image_ids[:, None] == image_ids[None, :]) & ~torch.eye(
        num_persons, dtype=torch.bool, device=feats.device)
    masked = cross.masked_fill(~other_person_same_image[:, :, None], float('inf'))
    hardest_negative = masked.reshape(num_persons, num_persons * num_scales).min(
        dim=1).values  # min_{j != i, s} D_s^{i->j}
    has_negative = other_person_same_image.any(dim=1)

    hinge = F.relu(margin + hardest_positive -
                   torch.where(has_negative, hardest_negative,
                               torch.zeros_like(hardest_negative)))
    hinge = torch.where(has_negative, hinge, torch.zeros_like(hinge))
    per_person = hinge + gamma * original_term

    # Eq. 2: mean over the persons of each image; Eq. 4: mean over images
    _, image_index, counts = torch.unique(image_ids, return_inverse=True,
                                          return_counts=True)
    per_image = torch.zeros(counts.numel(), dtype=per_person.dtype,
                            device=per_person.device).index_add(
                                0, image_index, per_person)
    return (per_image / counts.to(per_person.dtype)).mean()
