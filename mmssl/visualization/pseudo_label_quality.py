"""Pairwise precision and recall of the pseudo labels per epoch (paper Fig. 4)."""
from typing import Mapping, Optional, Sequence

from matplotlib import colormaps
from matplotlib.figure import Figure

LABEL_KINDS = (('cluster', 'clusters (DBSCAN)', '--', 'o'),
               ('multilabel', 'dynamic multi-labels', '-', 's'))


def plot_pseudo_label_quality(runs: Mapping[str, Sequence[dict]],
                              title: Optional[str] = None) -> Figure:
    """Two panels, precision and recall against epoch, for both label kinds.

    Args:
        runs: run name -> the statistics ``PseudoLabelHook`` logged (see
            :func:`mmssl.visualization.read_pseudo_label_stats`): dicts with
            ``epoch`` and ``cluster_precision``, ``cluster_recall``,
            ``multilabel_precision``, ``multilabel_recall``.
        title: figure title.

    Returns:
        The figure. Clusters are dashed lines, multi-labels solid; one colour per
        run.

    Raises:
        ValueError: no run has any precision/recall figure (the training set had
            no person ids, or the logs hold no pseudo-label line).
    """
    figure = Figure(figsize=(10, 4), layout='constrained')
    axes = figure.subplots(1, 2)
    palette = colormaps['tab10']
    drawn = 0
    for r, (run, stats) in enumerate(runs.items()):
        colour = palette(r % 10)
        for kind, kind_name, style, marker in LABEL_KINDS:
            for axis, figure_name in zip(axes, ('precision', 'recall')):
                key = f'{kind}_{figure_name}'
                points = [(s['epoch'], s[key]) for s in stats
                          if key in s and s[key] is not None]
                if not points:
                    continue
                epochs, values = zip(*points)
                label = kind_name if len(runs) == 1 else f'{run}: {kind_name}'
                axis.plot(epochs, values, linestyle=style, marker=marker,
                          color=colour, label=label)
                drawn += 1
    if not drawn:
        raise ValueError('plot_pseudo_label_quality: no cluster/multilabel '
                         'precision or recall in the given runs')
    for axis, name in zip(axes, ('precision', 'recall')):
        axis.set_xlabel('epoch')
        axis.set_ylabel(f'pairwise {name}')
        axis.set_ylim(0.0, 1.02)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8, loc='lower right')
    if title:
        figure.suptitle(title)
    return figure
