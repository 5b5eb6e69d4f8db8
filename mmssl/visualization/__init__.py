"""Visualization: search pictures (the paper's Fig. 5), t-SNE of re-id features
(Fig. 7), pseudo-label quality per epoch (Fig. 4), the learning diagnostics, mAP against gallery size
(Fig. 6), and the test-time hook that draws search pictures.

Importing this package registers ``SearchVisualizationHook`` in
``mmdet.registry.HOOKS``.
"""
from .figure_io import save_figure
from .gallery_size_plot import gallery_size_curve, plot_gallery_size
from .learning_diagnostics import plot_learning_diagnostics
from .pseudo_label_quality import plot_pseudo_label_quality
from .search_panel import crop_around_box, draw_search_panel
from .search_visualization_hook import (SearchVisualizationHook, evaluator_score_thr,
                                        sample_query_indices)
from .training_logs import (read_metric_records, read_pseudo_label_stats,
                            read_runs_pseudo_label_stats, run_names)
from .tsne_plot import SCALE_MARKERS, plot_identity_tsne, tsne_project

__all__ = [
    'save_figure', 'gallery_size_curve', 'plot_gallery_size',
    'plot_learning_diagnostics', 'plot_pseudo_label_quality', 'crop_around_box', 'draw_search_panel',
    'SearchVisualizationHook', 'evaluator_score_thr', 'sample_query_indices',
    'read_metric_records', 'read_pseudo_label_stats',
    'read_runs_pseudo_label_stats', 'run_names', 'SCALE_MARKERS',
    'plot_identity_tsne', 'tsne_project'
]
