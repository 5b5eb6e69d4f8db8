"""Gathering variable-size row batches from every rank.

``torch.distributed.all_gather`` (and :func:`mmengine.dist.all_gather` over it) needs
tensors of one shape on every rank, but each rank holds its own number of persons per
iteration. :func:`all_gather_rows` first gathers the counts, pads every rank's rows to
the largest count, gathers, and trims the padding again. It runs two collectives and
never pickles (unlike ``all_gather_object``), so it works on gloo and NCCL alike and
costs ``world_size * max_count`` rows of traffic. Outside a distributed run it returns
its input.

Every rank must call these functions at the same point with tensors of the same dtype
and trailing shape (empty tensors are fine).
"""
from typing import List, Optional

import torch
from mmengine import dist
from torch import Tensor


def all_gather_counts(count: int, device: torch.device,
                      group: Optional[object] = None) -> List[int]:
    """The value ``count`` of every rank, in rank order."""
    local = torch.tensor([count], dtype=torch.long, device=device)
    return [int(c) for c in dist.all_gather(local, group)]


def all_gather_rows(rows: Tensor, counts: Optional[List[int]] = None,
                    group: Optional[object] = None) -> List[Tensor]:
    """Gather a ``(n_r, ...)`` tensor from every rank ``r``; ``n_r`` may differ.

    Args:
        rows: this rank's rows; dtype and trailing shape equal on every rank.
        counts: the row count of every rank, if already known (skips one
            collective).
        group: process group (default: the world).

    Returns:
        One tensor per rank, in rank order, each with that rank's rows only.
    """
    if dist.get_world_size(group) == 1:
        return [rows]
    if counts is None:
        counts = all_gather_counts(rows.shape[0], rows.device, group)
    if counts[dist.get_rank(group)] != rows.shape[0]:
        raise ValueError(f'all_gather_rows: this rank holds {rows.shape[0]} rows but '
                         f'counts says {counts[dist.get_rank(group)]}')
    # gloo and NCCL accept zero-size tensors, but one padding row keeps every
    # backend on its ordinary path
    padded_len = max(max(counts), 1)
    padded = rows.new_zeros((padded_len, ) + tuple(rows.shape[1:]))
    padded[:rows.shape[0]] = rows
    gathered = dist.all_gather(padded, group)
    return [g[:c] for g, c in zip(gathered, counts)]
