"""The cluster contrastive loss of CGPS (the ``L_cluster`` of SSL's Eq. 13).

Plain torch; no mmdet import.
"""
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .reduction import check_reduction, reduce_per_sample

NEGATIVE_SELECTIONS = ('count', 'mass')


def hardest_negative_threshold(neg_logits: Tensor, ratio: float,
                               selection: str) -> Tuple[Tensor, Tensor]:
    """How many of the hardest negatives each row keeps, and the smallest kept logit.

    Args:
        neg_logits: ``(q, C)`` logits with the positive column at ``-inf``
            (``C >= 2``).
        ratio: the hard-negative fraction, in ``(0, 1]``.
        selection: ``'count'``: ``ceil(ratio * (C - 1))`` negatives, the same for
            every row. ``'mass'``: as CGPS's code does, the hardest negatives whose
            share of the negatives' softmax mass comes closest to ``ratio`` (at least
            one), a per-row count.

    Returns:
        ``(threshold (q,), keep (q,))``: ``threshold`` is the ``keep``-th largest
        negative logit of each row (differentiable), ``keep`` an int64 count in
        ``[1, C - 1]``.
    """
    q, num_columns = neg_logits.shape
    num_negatives = num_columns - 1
    if selection == 'count':
        # round first so that 0.6 * 5 counts as 3, not 3.0000000000000004 -> 4
        keep = min(num_negatives, max(1, math.ceil(round(ratio * num_negatives, 9))))
        # k-th largest = (C - k + 1)-th smallest; the -inf positive is the smallest.
        # kthvalue is a linear-time selection, several times faster than topk/sort
        # for the large k of the instance-level contrast
        threshold = torch.kthvalue(neg_logits, num_columns - keep + 1, dim=1).values
        return threshold, torch.full((q, ), keep, dtype=torch.long,
                                     device=neg_logits.device)
    sorted_logits = torch.sort(neg_logits, dim=1, descending=True).values
    shares = torch.softmax(sorted_logits.detach(), dim=1)[:, :num_negatives]
    keep = (shares.cumsum(dim=1) - ratio).abs().argmin(dim=1) + 1
    threshold = sorted_logits.gather(1, (keep - 1)[:, None])[:, 0]
    return threshold, keep


def check_cluster_contrast_settings(temperature: float, hard_negative_ratio: float,
                                    negative_selection: str, reduction: str,
                                    caller: str = 'cluster_contrast_loss') -> None:
    """Raise ``ValueError`` (naming ``caller``) for a setting of
    :func:`cluster_contrast_loss` outside its domain."""
    if negative_selection not in NEGATIVE_SELECTIONS:
        raise ValueError(f'{caller}: negative_selection must be one of '
                         f'{NEGATIVE_SELECTIONS}, got {negative_selection!r}')
    check_reduction(reduction, caller)
    if not 0.0 < hard_negative_ratio <= 1.0:
        raise ValueError(f'{caller}: hard_negative_ratio must lie in (0, 1], got '
                         f'{hard_negative_ratio}')
    if temperature <= 0:
        raise ValueError(f'{caller}: temperature must be > 0, got {temperature}')


def cluster_contrast_loss(feats: Tensor, centroids: Tensor, targets: Tensor,
                          temperature: float = 0.05, hard_negative_ratio: float = 0.6,
                          negative_selection: str = 'mass',
                          reduction: str = 'mean') -> Tensor:
    """Cluster contrastive loss with hardest-negative selection (CGPS).

    ``logits = normalize(f) C^T / tau``; the loss is the cross entropy with the
    sample's cluster as target, where the softmax denominator keeps the positive and
    only the hardest (most similar) negatives::

        l = -log( exp(z_y) / (exp(z_y) + sum_{k in hard negatives} exp(z_k)) )

    With ``centroids`` = the memory itself and ``targets`` = the instance indices it
    is the instance-level contrast used before pseudo labels exist.

    Args:
        feats: ``(q, d)`` batch features (re-normalised here).
        centroids: ``(C, d)`` cluster centroids (:func:`cluster_centroids`: means
            of unit memory rows, as CGPS; or the unit memory rows themselves).
        targets: ``(q,)`` cluster of each feature, in ``[0, C)``.
        temperature: ``tau`` (CGPS: 0.05).
        hard_negative_ratio: the hard-negative share, in ``(0, 1]`` (CGPS: 0.6);
            1 keeps them all (plain cross entropy).
        negative_selection: ``'mass'`` (default) follows CGPS's code, keeping the
            hardest negatives that carry about ``ratio`` of the negatives' softmax
            mass; ``'count'`` keeps the top ``ceil(ratio * (C - 1))`` negatives
            by similarity (see :func:`hardest_negative_threshold`).
        reduction: ``'mean'`` (over the ``q`` features), ``'sum'`` or ``'none'``.

    Returns:
        The loss; 0 attached to ``feats`` when ``q == 0`` (unless ``'none'``).
    """
    check_cluster_contrast_settings(temperature, hard_negative_ratio,
                                    negative_selection, reduction)
    if (feats.dim() != 2 or centroids.dim() != 2
            or feats.shape[1] != centroids.shape[1]):
        raise ValueError(f'cluster_contrast_loss: feats {tuple(feats.shape)} and '
                         f'centroids {tuple(centroids.shape)} must be (q, d) and '
                         '(C, d)')
    if targets.dim() != 1 or targets.numel() != feats.shape[0]:
        raise ValueError(f'cluster_contrast_loss: targets has shape '
                         f'{tuple(targets.shape)}, expected ({feats.shape[0]},)')
    num_clusters = centroids.shape[0]
    targets = targets.to(device=feats.device, dtype=torch.long)
    if targets.numel() and (int(targets.min()) < 0
                            or int(targets.max()) >= num_clusters):
        bad = targets[(targets < 0) | (targets >= num_clusters)][0]
        raise IndexError(f'cluster_contrast_loss: target {int(bad)} out of range for '
                         f'{num_clusters} centroids')
    if feats.shape[0] == 0:
        return feats.new_zeros(0) if reduction == 'none' else feats.sum() * 0.0

    logits = F.normalize(feats, dim=1) @ centroids.t() / temperature  # (q, C)
    positive = logits.gather(1, targets[:, None])  # (q, 1)
    if num_clusters == 1:  # no negative: softmax of the positive alone is 1
        per_feature = positive[:, 0] * 0.0
    else:
        neg_logits = logits.scatter(1, targets[:, None], float('-inf'))
        threshold, keep = hardest_negative_threshold(neg_logits, hard_negative_ratio,
                                                     negative_selection)
        # the kept negatives: all above the threshold, plus as many copies of the
        # threshold value as needed to reach `keep` (exact with ties, no top-k)
        above = neg_logits > threshold[:, None]
        copies = (keep - above.sum(dim=1)).to(logits.dtype)  # >= 1
        terms = torch.cat([
            positive,
            neg_logits.masked_fill(~above, float('-inf')),
            (threshold + torch.log(copies))[:, None],
        ], dim=1)
        per_feature = torch.logsumexp(terms, dim=1) - positive[:, 0]
    return reduce_per_sample(per_feature, reduction)
