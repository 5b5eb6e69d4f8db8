"""In-place row updates of a memory bank, with loop semantics for repeated rows.

Eq. 5 of the paper: ``M[i] = lambda * f_i + (1 - lambda) * M[i]``, after which the row
is re-normalised to unit length (the banks feed the cosine similarity ``S = M M^T`` of
Eq. 7). When one batch (or the batches of several ranks, concatenated in rank order)
holds the same row more than once, the result equals applying the updates one after
the other in the given order: the updates are applied in rounds, round ``r`` holding
the ``r``-th occurrence of every row, each round vectorised.

Plain torch; no mmdet import.
"""
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def occurrence_rank(indices: Tensor) -> Tensor:
    """For every entry, how many earlier entries hold the same value.

    Args:
        indices: ``(n,)`` integer tensor.

    Returns:
        ``(n,)`` int64: 0 for the first occurrence of a value, 1 for the second, ...
    """
    n = indices.numel()
    if n == 0:
        return torch.zeros(0, dtype=torch.long, device=indices.device)
    order = torch.sort(indices, stable=True).indices
    sorted_vals = indices[order]
    positions = torch.arange(n, device=indices.device)
    new_group = torch.ones(n, dtype=torch.bool, device=indices.device)
    new_group[1:] = sorted_vals[1:] != sorted_vals[:-1]
    group_start = torch.cummax(torch.where(new_group, positions,
                                           torch.zeros_like(positions)), 0).values
    rank = torch.empty_like(positions)
    rank[order] = positions - group_start
    return rank


def _apply_in_rounds(indices: Tensor, apply: Callable[[Tensor], None]) -> None:
    """Call ``apply(selection)`` once per occurrence round, in order."""
    if indices.numel() == 0:
        return
    rank = occurrence_rank(indices)
    max_rank = int(rank.max())
    if max_rank == 0:
        apply(torch.arange(indices.numel(), device=indices.device))
        return
    for r in range(max_rank + 1):
        apply(torch.nonzero(rank == r).flatten())


@torch.no_grad()
def momentum_update_rows(bank: Tensor, indices: Tensor, feats: Tensor,
                         momentum: float) -> None:
    """Eq. 5 in place: ``bank[i] = normalize(momentum * f + (1 - momentum) * bank[i])``.

    Args:
        bank: ``(N, d)`` memory bank, updated in place.
        indices: ``(n,)`` rows to update (repeats are applied in order).
        feats: ``(n, d)`` new features ``f`` (``lambda`` weighs them).
        momentum: ``lambda`` of Eq. 5, in ``[0, 1]``.
    """
    feats = feats.to(device=bank.device, dtype=bank.dtype)
    indices = indices.to(device=bank.device, dtype=torch.long)

    def apply(sel: Tensor) -> None:
        rows = indices[sel]
        mixed = momentum * feats[sel] + (1.0 - momentum) * bank[rows]
        bank[rows] = F.normalize(mixed, dim=1)

    _apply_in_rounds(indices, apply)


@torch.no_grad()
def assign_rows(bank: Tensor, indices: Tensor, feats: Tensor,
                normalize: bool = True) -> None:
    """Set ``bank[indices] = feats`` in place (the last of repeated rows wins).

    Args:
        bank: ``(N, d)`` memory bank, updated in place.
        indices: ``(n,)`` rows to set.
        feats: ``(n, d)`` values.
        normalize: re-normalise the rows to unit length.
    """
    feats = feats.to(device=bank.device, dtype=bank.dtype)
    if normalize:
        feats = F.normalize(feats, dim=1)
    indices = indices.to(device=bank.device, dtype=torch.long)

    def apply(sel: Tensor) -> None:
        bank[indices[sel]] = feats[sel]

    _apply_in_rounds(indices, apply)
