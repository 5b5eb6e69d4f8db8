"""Top-k of every row by the maxima of column groups: fewer elements through top-k.

``torch.topk`` on the CPU costs about 3 ns per element of a row of proposals, the
largest share of the exact kNN search. :func:`grouped_top_k` sends fewer elements
through it. The columns of a row are dealt into ``L = N // G`` groups of ``G``
(group ``g`` holds columns ``g, g + L, g + 2L, ...``, so that the group maxima are
one element-wise maximum of ``G`` contiguous slabs); the top ``k`` groups by their
maxima are found, then the top ``k`` of their ``k G`` members (plus the ``N mod G``
columns left over).

Why nothing is lost: let ``tau`` be the ``k``-th largest group maximum. The ``k``
chosen groups hold ``k`` elements ``>= tau`` (their maxima), so the ``k``-th
largest candidate is ``>= tau``; an element of any other group is ``<= its group's
maximum <= tau``. So every element left out is at most the smallest one returned,
which is all that :class:`~mmssl.labels.neighbour_search.NeighbourSearch` needs
of a top-k (ties are broken in no particular order, as by ``torch.topk``).

Measured on one thread, bfloat16 proposals of 4 Mi elements per block
(``k = 46``): 15.5 -> 9.7 ms at N = 5,000 (G = 8), 8.9 -> 5.5 ms at 18,048 and
7.0 -> 3.1 ms at 55,272 (G = 16). The chosen groups' members are gathered slab by
slab from the ``(B, G, L)`` view (11.95 -> 11.12 ms per block at 5,000 against
gathering their columns from the rows; minima of 30 calls).
"""
from typing import Tuple

import torch


def group_size(columns: int) -> int:
    """Columns per group: 8 below 16,384 columns, else 16 (fastest measured)."""
    return 8 if columns < 16384 else 16


def grouped_top_k(scores: torch.Tensor, k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` largest entries of each row, in no particular order.

    Args:
        scores: ``(B, N)`` tensor (any float dtype, any device).
        k: entries per row, ``1 <= k <= N``.

    Returns:
        ``(values, indices)``, each ``(B, k)``, as ``torch.topk(scores, k, dim=1,
        sorted=False)`` returns them up to the order and the choice among ties.
    """
    rows, columns = scores.shape
    group = group_size(columns)
    groups = columns // group
    if groups < 2 * k:  # too few groups to save anything
        top = torch.topk(scores, k, dim=1, sorted=False)
        return top.values, top.indices
    body = scores[:, :group * groups].unflatten(1, (group, groups))
    maxima = body.amax(dim=1)  # (B, L): group g = columns g + t L
    chosen = torch.topk(maxima, k, dim=1, sorted=False).indices
    # the chosen groups' members, slab by slab: each (row, slab) gathers from
    # one contiguous slice (faster than gathering the columns from the rows)
    values = body.gather(2, chosen.unsqueeze(1).expand(rows, group, k)).flatten(1)
    offsets = torch.arange(group, device=scores.device).view(1, group, 1) * groups
    candidates = (chosen.unsqueeze(1) + offsets).flatten(1)
    if group * groups < columns:
        rest = torch.arange(group * groups, columns, device=scores.device)
        candidates = torch.cat([candidates, rest.expand(rows, -1)], dim=1)
        values = torch.cat([values, scores[:, group * groups:]], dim=1)
    top = torch.topk(values, k, dim=1, sorted=False)
    return top.values, torch.gather(candidates, 1, top.indices)
