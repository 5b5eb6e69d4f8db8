"""The dynamic multi-labels of Eq. 8, computed for the persons of one batch.

The paper computes the label vector of each person "at each iteration by Eq. (8)"
(Sec. 3.3): the ``q`` persons of a batch are compared with the current memory
``M`` (Eq. 6-7), ``Y_ij = 1`` for ``s_ij >= t`` (Eq. 8, ``t`` of Eq. 9), then the
same-image exclusion of Eq. 10. This costs ``q x N``, against the ``N x N`` of
recomputing every row (:func:`mmssl.labels.dynamic_multilabels`, which the
pseudo-label hook runs once per epoch).

The conventions are those of :mod:`mmssl.labels.multi_labels`, so both cadences
give the same positive sets on the same ``M``: row ``i`` is its own positive and is
walked first; ties in similarity are walked in ascending index order; a candidate
is accepted exactly when it is the first candidate of its image in the walk order
(the proof is in that module's docstring).

Plain torch; no mmdet import.
"""
from typing import Tuple

import torch
from torch import Tensor


def batch_multilabels(memory: Tensor, rows: Tensor, image_keys: Tensor,
                      threshold: float) -> Tuple[Tensor, Tensor]:
    """Positive sets of the batch rows against the current memory (Eq. 7-10).

    Args:
        memory: ``(N, d)`` unit rows of ``M`` (Eq. 6).
        rows: ``(q,)`` distinct memory rows of the batch persons.
        image_keys: ``(N,)`` integer image of every memory row (rows with equal
            keys are boxes of one image).
        threshold: ``t`` of Eq. 9.

    Returns:
        ``(indptr, indices)``: a CSR matrix over all ``N`` rows, int64, as
        ``PseudoLabelStore`` keeps it (``indptr`` ``(N + 1,)``): row ``rows[b]``
        holds its positives in ascending order, itself included; every other row
        is empty. It goes straight to
        :func:`~mmssl.models.losses.functional.dynamic_multilabel_loss`.

    Raises:
        ValueError: shapes that disagree, or a row given twice.
    """
    if memory.dim() != 2:
        raise ValueError(f'batch_multilabels: memory has shape '
                         f'{tuple(memory.shape)}, expected (N, d)')
    num_rows = memory.shape[0]
    rows = torch.as_tensor(rows, device=memory.device).long().reshape(-1)
    image_keys = torch.as_tensor(image_keys, device=memory.device).long()
    if image_keys.shape != (num_rows, ):
        raise ValueError(f'batch_multilabels: image_keys has shape '
                         f'{tuple(image_keys.shape)}, expected ({num_rows},)')
    if rows.numel() and (int(rows.min()) < 0 or int(rows.max()) >= num_rows):
        raise ValueError(f'batch_multilabels: a row is out of range for a memory '
                         f'of {num_rows} rows')
    if torch.unique(rows).numel() != rows.numel():
        raise ValueError('batch_multilabels: a memory row is given twice')
    indptr = torch.zeros(num_rows + 1, dtype=torch.long, device=memory.device)
    if rows.numel() == 0:
        return indptr, torch.zeros(0, dtype=torch.long, device=memory.device)

    with torch.no_grad():
        sims = memory[rows] @ memory.t()  # (q, N): Eq. 7 for the batch rows
        batch = torch.arange(rows.numel(), device=memory.device)
        sims[batch, rows] = float('inf')  # self is walked first
        cand_b, cand_j = torch.nonzero(sims >= threshold, as_tuple=True)
        cand_sims = sims[cand_b, cand_j]
        # walk order: by batch row, similarity descending, index ascending
        # (nonzero lists j ascending within each row; both sorts are stable)
        order = torch.sort(-cand_sims, stable=True).indices
        order = order[torch.sort(cand_b[order], stable=True).indices]
        cand_b, cand_j = cand_b[order], cand_j[order]
        # the first candidate of each (batch row, image) in walk order wins
        _, images = torch.unique(image_keys, return_inverse=True)
        group = cand_b * (int(images.max()) + 1) + images[cand_j]
        _, group_index = torch.unique(group, return_inverse=True)
        positions = torch.arange(group.numel(), device=memory.device)
        first = torch.full((int(group_index.max()) + 1, ), group.numel(),
                           dtype=torch.long, device=memory.device)
        first = first.scatter_reduce(0, group_index, positions, reduce='amin')
        owner, column = rows[cand_b[first]], cand_j[first]
        order = torch.sort(owner * num_rows + column).indices
        owner, column = owner[order], column[order]
        indptr[1:] = torch.cumsum(torch.bincount(owner, minlength=num_rows), 0)
    return indptr, column
