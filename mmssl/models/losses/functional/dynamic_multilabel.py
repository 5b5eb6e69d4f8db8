"""The dynamic multi-label loss of SSL, Eq. 11, as a plain function.

Plain torch; no mmdet import.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

from ...pseudo_labels.csr import gather_csr_rows
from .reduction import check_reduction, reduce_per_sample


def dynamic_multilabel_loss(feats: Tensor, memory: Tensor, positive_indptr: Tensor,
                            positive_indices: Tensor, rows: Tensor,
                            delta: float = 5.0, reduction: str = 'mean') -> Tensor:
    """Multi-label classification loss ``L_ml(M*, f*)`` against a memory (Eq. 11).

    For the batch feature ``f`` of memory row ``r`` with positive set ``P``
    (``positive_indices[positive_indptr[r]:positive_indptr[r + 1]]``, the row
    itself included) and negatives ``N`` (every other memory row)::

        l = delta / |P| * sum_{p in P} (M[p]^T f - 1)^2
            + 1 / |N| * sum_{v in N} (M[v]^T f + 1)^2

    (``(-1)^{Y}`` is -1 on positives, +1 on negatives). The negative mean is the sum
    over all ``N_mem`` rows minus the sum over the positives, divided by
    ``N_mem - |P|``, so nothing wider than the ``q x N_mem`` similarity is built. An
    empty positive (negative) set contributes 0 for its term.

    ``f`` is re-normalised here (Eq. 11 compares ``M^T f`` with +-1, i.e. a cosine);
    the memory rows are used as given (the memory keeps them unit length).
    Gradients flow to ``feats`` (and to ``memory`` if it requires grad, which the
    memory buffers do not).

    Eq. 12 (``L_DML``) is the sum of two calls: ``(f_i, M_I)`` and ``(f_i^h, M_M)``.

    Args:
        feats: ``(q, d)`` batch features ``f*``.
        memory: ``(N_mem, d)`` memory bank ``M*``.
        positive_indptr: ``(N_mem + 1,)`` CSR row pointers over all memory rows.
        positive_indices: ``(nnz,)`` CSR columns.
        rows: ``(q,)`` memory row (instance index) of each batch feature.
        delta: the balance factor ``delta`` of the positive term.
        reduction: ``'sum'`` is Eq. 11 literally (sum over the ``q`` persons);
            ``'mean'`` divides it by ``q``; ``'none'`` returns the ``(q,)`` terms.

    Returns:
        The loss (scalar, or ``(q,)`` for ``'none'``); 0 attached to ``feats`` when
        ``q == 0`` and the reduction is not ``'none'``.
    """
    check_reduction(reduction, 'dynamic_multilabel_loss')
    if feats.dim() != 2 or memory.dim() != 2 or feats.shape[1] != memory.shape[1]:
        raise ValueError(f'dynamic_multilabel_loss: feats {tuple(feats.shape)} and '
                         f'memory {tuple(memory.shape)} must be (q, d) and (N, d)')
    num_rows = memory.shape[0]
    if positive_indptr.dim() != 1 or positive_indptr.numel() != num_rows + 1:
        raise ValueError(f'dynamic_multilabel_loss: positive_indptr has shape '
                         f'{tuple(positive_indptr.shape)}, expected ({num_rows + 1},) '
                         f'for a memory of {num_rows} rows')
    rows = torch.as_tensor(rows, device=positive_indptr.device)
    if rows.dim() != 1 or rows.numel() != feats.shape[0]:
        raise ValueError(f'dynamic_multilabel_loss: rows has shape '
                         f'{tuple(rows.shape)}, expected ({feats.shape[0]},)')
    num_feats = feats.shape[0]
    if num_feats == 0:
        empty = feats.sum() * 0.0
        return feats.new_zeros(0) if reduction == 'none' else empty

    f = F.normalize(feats, dim=1)
    sims = f @ memory.t()  # (q, N_mem), M[v]^T f
    segment, columns, num_pos = gather_csr_rows(positive_indptr, positive_indices,
                                                rows)
    if columns.numel() and (int(columns.min()) < 0
                            or int(columns.max()) >= num_rows):
        raise IndexError(f'dynamic_multilabel_loss: a positive index is out of '
                         f'range for a memory of {num_rows} rows')
    segment = segment.to(sims.device)
    columns = columns.to(sims.device)
    num_pos = num_pos.to(sims.device)
    pos_sims = sims[segment, columns]
    zeros = sims.new_zeros(num_feats)
    pos_sum = zeros.index_add(0, segment, (pos_sims - 1.0).pow(2))
    pos_as_neg_sum = zeros.index_add(0, segment, (pos_sims + 1.0).pow(2))
    neg_sum = (sims + 1.0).pow(2).sum(dim=1) - pos_as_neg_sum
    num_neg = num_rows - num_pos

    pos_term = torch.where(num_pos > 0, pos_sum / num_pos.clamp_min(1), zeros)
    neg_term = torch.where(num_neg > 0, neg_sum / num_neg.clamp_min(1), zeros)
    per_person = delta * pos_term + neg_term
    return reduce_per_sample(per_person, reduction)
