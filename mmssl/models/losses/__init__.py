"""SSL losses, registered in ``mmdet.registry.MODELS``: ``ScaleInvariantLoss``
(Eq. 2-4), ``DynamicMultiLabelLoss`` (Eq. 11-12) and ``ClusterContrastLoss`` (CGPS's
cluster contrast, the ``L_cluster`` of Eq. 13). The math lives in
:mod:`mmssl.models.losses.functional`."""
from .cluster_contrast import ClusterContrastLoss
from .dynamic_multilabel import DynamicMultiLabelLoss
from .functional import (cluster_centroids, cluster_contrast_loss,
                         dynamic_multilabel_loss, scale_invariant_loss,
                         singleton_outlier_labels)
from .scale_invariant import ScaleInvariantLoss

__all__ = [
    'ScaleInvariantLoss', 'DynamicMultiLabelLoss', 'ClusterContrastLoss',
    'scale_invariant_loss', 'dynamic_multilabel_loss', 'cluster_contrast_loss',
    'cluster_centroids', 'singleton_outlier_labels'
]
