"""``DynamicMultiLabelLoss``: the registered module around Eq. 11."""
from mmdet.registry import MODELS
from torch import Tensor, nn

from .functional.dynamic_multilabel import dynamic_multilabel_loss
from .functional.reduction import check_reduction


@MODELS.register_module()
class DynamicMultiLabelLoss(nn.Module):
    """Dynamic multi-label loss ``L_ml(M*, f*)`` of SSL (Eq. 11).

    ``L_DML`` (Eq. 12) is the sum of two calls by the head: on ``M_I`` with the
    RoI features ``f_i`` and on ``M_M`` with the mean exemplar features ``f_i^h``.

    The paper does not give ``delta``. The default 5.0 is the positive weight of
    MMCL (Wang & Zhang, CVPR 2020), whose memory-based multi-label loss Eq. 11
    reproduces: with a few positives against thousands of negatives, the positive
    term must be weighted up to matter. Configurable.

    Args:
        delta: balance factor ``delta`` of the positive term.
        loss_weight: factor on the result.
        reduction: ``'mean'`` averages over the ``q`` persons of the batch (the
            default, so the scale does not depend on the batch size); ``'sum'``
            is Eq. 11 literally; ``'none'`` returns per-person terms.
    """

    def __init__(self, delta: float = 5.0, loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__()
        check_reduction(reduction, 'DynamicMultiLabelLoss')
        self.delta = delta
        self.loss_weight = loss_weight
        self.reduction = reduction

    def forward(self, feats: Tensor, memory: Tensor, positive_indptr: Tensor,
                positive_indices: Tensor, rows: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            feats: ``(q, d)`` batch features ``f*``.
            memory: ``(N, d)`` memory bank ``M*``.
            positive_indptr: ``(N + 1,)`` CSR row pointers of the positive sets
                (``PseudoLabelStore.multilabel_indptr``).
            positive_indices: ``(nnz,)`` CSR columns
                (``PseudoLabelStore.multilabel_indices``).
            rows: ``(q,)`` memory row of each batch feature.

        Returns:
            ``loss_weight * L_ml`` reduced as configured.
        """
        return self.loss_weight * dynamic_multilabel_loss(
            feats, memory, positive_indptr, positive_indices, rows,
            delta=self.delta, reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f'delta={self.delta}, loss_weight={self.loss_weight}, '
                f'reduction={self.reduction!r}')
