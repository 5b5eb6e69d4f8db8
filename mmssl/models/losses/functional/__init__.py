"""The SSL losses as plain functions over tensors (no mmdet import)."""
from .batch_multilabels import batch_multilabels
from .cluster_centroids import cluster_centroids, singleton_outlier_labels
from .cluster_contrast import cluster_contrast_loss, hardest_negative_threshold
from .dynamic_multilabel import dynamic_multilabel_loss
from .scale_invariant import scale_invariant_loss, squared_euclidean_unit

__all__ = [
    'batch_multilabels', 'cluster_centroids', 'singleton_outlier_labels',
    'cluster_contrast_loss', 'hardest_negative_threshold', 'dynamic_multilabel_loss', 'scale_invariant_loss',
    'squared_euclidean_unit'
]
