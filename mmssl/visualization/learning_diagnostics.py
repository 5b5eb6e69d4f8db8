"""Does SSL learn identities? The learning diagnostics of each labelled epoch.

Three panels over the epochs, from the ``pseudo labels {...}`` lines
``PseudoLabelHook`` logs: the nearest-neighbour identity precision of the banks
(M_I, M_M, M) against the colour-histogram floor on the same boxes; the pairwise
precision of the clusters and of the multi-labels; the number of clusters with the
largest cluster's share of the boxes.
"""
from typing import Mapping, Optional, Sequence

from matplotlib import colormaps
from matplotlib.figure import Figure

BANK_CURVES = (('nn_precision_instance', 'M_I', ':'),
               ('nn_precision_exemplar', 'M_M', '-.'),
               ('nn_precision_combined', 'M', '-'),
               ('nn_precision_colour', 'colour histogram (floor)', '--'))
LABEL_CURVES = (('cluster_precision', 'clusters', '--'),
                ('multilabel_precision', 'multi-labels', '-'))


def _points(stats: Sequence[dict], key: str):
    points = [(s['epoch'], s[key]) for s in stats
              if isinstance(s.get(key), (int, float)) and s[key] == s[key]]
    return zip(*points) if points else ((), ())


def plot_learning_diagnostics(runs: Mapping[str, Sequence[dict]],
                              title: Optional[str] = None) -> Figure:
    """Draw the diagnostics of one or more runs.

    Args:
        runs: run name -> the statistics ``PseudoLabelHook`` logged
            (:func:`mmssl.visualization.read_pseudo_label_stats`).
        title: figure title.

    Returns:
        The figure (one colour per run, one line style per curve).

    Raises:
        ValueError: no run holds any nearest-neighbour precision (the training set
            had no person ids, or ``PseudoLabelHook(diagnostics=False)``).
    """
    figure = Figure(figsize=(14, 5.5), layout='constrained')
    banks, labels, clusters = figure.subplots(1, 3)
    share_axis = clusters.twinx()
    share_axis.set_ylabel('largest cluster / boxes (dashed)')
    share_axis.set_ylim(0.0, 1.02)
    palette = colormaps['tab10']
    drawn = 0
    for r, (run, stats) in enumerate(runs.items()):
        colour = palette(r % 10)
        prefix = '' if len(runs) == 1 else f'{run}: '
        for axis, curves in ((banks, BANK_CURVES), (labels, LABEL_CURVES)):
            for key, name, style in curves:
                epochs, values = _points(stats, key)
                if epochs:
                    axis.plot(epochs, values, linestyle=style, marker='o',
                              markersize=3, color=colour, label=prefix + name)
                    drawn += axis is banks
        epochs, values = _points(stats, 'clusters')
        if epochs:
            clusters.plot(epochs, values, marker='o', markersize=3, color=colour,
                          label=prefix + 'clusters')
        epochs, shares = _points(stats, 'largest_cluster_share')
        if epochs:
            share_axis.plot(epochs, shares, linestyle='--', color=colour,
                            label=prefix + 'largest share')
    if not drawn:
        raise ValueError('plot_learning_diagnostics: no nearest-neighbour '
                         'precision in the given runs (no person ids, or '
                         'PseudoLabelHook(diagnostics=False))')
    for axis, name in ((banks, 'nearest-neighbour identity precision'),
                       (labels, 'pairwise precision')):
        axis.set_ylim(0.0, 1.02)
        axis.set_ylabel(name)
    clusters.set_ylabel('clusters (2+ members)')
    for axis in (banks, labels, clusters):
        axis.set_xlabel('epoch')
        axis.grid(True, alpha=0.3)
        # below the axes: the curves stay visible whatever their values
        axis.legend(fontsize=7, loc='upper center', bbox_to_anchor=(0.5, -0.16),
                    ncol=2)
    if title:
        figure.suptitle(title)
    return figure
