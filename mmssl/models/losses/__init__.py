"""SSL losses, registered in ``mmdet.registry.MODELS``: ``ScaleInvariantLoss``
(Eq. 2-4), ``DynamicMultiLabelLoss`` (Eq. 11-12) and ``ClusterContrastLoss`` (CGPS's
cluster contrast, the ``L_cluster`` of Eq. 13). The math lives in
:mod:`mmssl.models.losses.functional`, with the per-iteration multi-labels of Eq. 8
(``batch_multilabels``); ``RowImages`` keeps the image of every memory row for
them."""
from .cluster_contrast import ClusterContrastLoss
from .dynamic_multilabel import DynamicMultiLabelLoss
from .functional import (batch_multilabels, cluster_centroids,
                         cluster_contrast_loss, dynamic_multilabel_loss,
                         scale_invariant_loss, singleton_outlier_labels)
from .row_images import RowImages
from .scale_invariant import ScaleInvariantLoss

__all__ = [
    'ScaleInvariantLoss', 'DynamicMultiLabelLoss', 'ClusterContrastLoss',
    'scale_invariant_loss', 'dynamic_multilabel_loss', 'cluster_contrast_loss',
    'cluster_centroids', 'singleton_outlier_labels', 'batch_multilabels',
    'RowImages'
]
