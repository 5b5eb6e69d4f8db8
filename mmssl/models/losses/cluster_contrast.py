"""``ClusterContrastLoss``: the registered module around CGPS's cluster contrast."""
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn

from .functional.cluster_contrast import (check_cluster_contrast_settings,
                                          cluster_contrast_loss)


@MODELS.register_module()
class ClusterContrastLoss(nn.Module):
    """Cluster contrastive loss ``L_cluster`` (SSL Eq. 13, from CGPS).

    Cross entropy over ``normalize(f) C^T / tau`` with the sample's cluster as
    target, the softmax denominator restricted to the positive and the hardest
    negatives. The caller builds the centroids with
    :func:`mmssl.models.losses.cluster_centroids` (outliers as singleton clusters,
    :func:`mmssl.models.losses.singleton_outlier_labels`); before pseudo labels
    exist, passing the memory itself and the instance indices gives the
    instance-level contrast.

    The defaults are CGPS's (ljpadam/CGPS): ``tau = 0.05`` (``CGPSHead``,
    ``mmdet/models/roi_heads/bbox_heads/cgps_head.py`` line 44), ``0.6`` of the
    negatives' softmax mass (``top_percent`` in ``configs/cgps/prw.py`` line 12,
    applied by mass in ``mmdet/models/utils/hybrid_memory_loss.py`` lines
    265-272) and centroids that are plain means of the memory rows (same file,
    lines 285-290; see :func:`~mmssl.models.losses.cluster_centroids`).

    Args:
        temperature: ``tau`` (CGPS: 0.05).
        hard_negative_ratio: the hard-negative share (CGPS: 0.6), of the
            negatives' softmax mass or of their count (``negative_selection``).
        loss_weight: factor on the result.
        negative_selection: ``'mass'`` (default): what CGPS's code does, the
            hardest negatives carrying about ``ratio`` of the negatives' softmax
            mass. ``'count'``: the top ``ceil(ratio * (C - 1))`` negatives by
            similarity.
        normalize_centroids: scale the given centroids to unit length before the
            logits (off: CGPS's plain means are used as given).
        reduction: ``'mean'`` over the batch features, ``'sum'`` or ``'none'``.
    """

    def __init__(self, temperature: float = 0.05, hard_negative_ratio: float = 0.6,
                 loss_weight: float = 1.0, negative_selection: str = 'mass',
                 normalize_centroids: bool = False,
                 reduction: str = 'mean') -> None:
        super().__init__()
        check_cluster_contrast_settings(temperature, hard_negative_ratio,
                                        negative_selection, reduction,
                                        caller='ClusterContrastLoss')
        self.temperature = temperature
        self.hard_negative_ratio = hard_negative_ratio
        self.loss_weight = loss_weight
        self.negative_selection = negative_selection
        self.normalize_centroids = normalize_centroids
        self.reduction = reduction

    def forward(self, feats: Tensor, centroids: Tensor, targets: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            feats: ``(q, d)`` batch features.
            centroids: ``(C, d)`` centroids (rows of length at most 1).
            targets: ``(q,)`` cluster of each feature.

        Returns:
            ``loss_weight * L_cluster`` reduced as configured.
        """
        if self.normalize_centroids:
            centroids = F.normalize(centroids, dim=1)
        return self.loss_weight * cluster_contrast_loss(
            feats, centroids, targets, temperature=self.temperature,
            hard_negative_ratio=self.hard_negative_ratio,
            negative_selection=self.negative_selection, reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, '
                f'hard_negative_ratio={self.hard_negative_ratio}, '
                f'negative_selection={self.negative_selection!r}, '
                f'normalize_centroids={self.normalize_centroids}, '
                f'loss_weight={self.loss_weight}')
