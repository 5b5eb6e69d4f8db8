"""``ScaleInvariantLoss``: the registered module around Eq. 2-4."""
from mmdet.registry import MODELS
from torch import Tensor, nn

from .functional.scale_invariant import scale_invariant_loss


@MODELS.register_module()
class ScaleInvariantLoss(nn.Module):
    """Scale-invariant loss ``L_scale`` of SSL (Eq. 2-4).

    See :func:`mmssl.models.losses.functional.scale_invariant_loss` for the exact
    formula, the per-image averaging and the single-person rule (hinge dropped,
    ``gamma`` term kept).

    Args:
        margin: ``m`` (paper: 0.3).
        gamma: weight of the original-scale term (paper: 0.05).
        loss_weight: factor on the result.
    """

    def __init__(self, margin: float = 0.3, gamma: float = 0.05,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.margin = margin
        self.gamma = gamma
        self.loss_weight = loss_weight

    def forward(self, roi_feats: Tensor, exemplar_feats: Tensor,
                image_ids: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            roi_feats: ``(P, d)`` main-branch features of the ground-truth persons.
            exemplar_feats: ``(P, K + 1, d)``: original-scale exemplar first, then
                the ``K`` resized scales.
            image_ids: ``(P,)`` image of each person within the batch.

        Returns:
            Scalar ``loss_weight * L_scale``.
        """
        return self.loss_weight * scale_invariant_loss(
            roi_feats, exemplar_feats, image_ids, margin=self.margin,
            gamma=self.gamma)

    def extra_repr(self) -> str:
        return (f'margin={self.margin}, gamma={self.gamma}, '
                f'loss_weight={self.loss_weight}')
