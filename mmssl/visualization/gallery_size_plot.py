"""Search mAP against gallery size (CUHK-SYSU ``gallery_<N>`` protocols; Fig. 6)."""
import re
from typing import Dict, Mapping, Optional, Sequence

from matplotlib import colormaps
from matplotlib.figure import Figure

_GALLERY_KEY = re.compile(r'^(?:(?P<prefix>.+)/)?gallery_(?P<size>\d+)/(?P<metric>[^/]+)$')


def gallery_size_curve(record: Mapping[str, float], metric: str = 'mAP',
                       prefix: str = 'search',
                       default_size: Optional[int] = 100) -> Dict[int, float]:
    """Gallery size -> figure, from one evaluation's metric dict.

    Reads ``<prefix>/gallery_<N>/<metric>`` keys; the un-suffixed
    ``<prefix>/<metric>`` (the default protocol) counts as gallery size
    ``default_size`` unless that size has its own key.

    Args:
        record: metric dict as MMEngine logs it (e.g. ``search/gallery_50/mAP``).
        metric: ``mAP``, ``top1``...
        prefix: the metric's prefix (``search``).
        default_size: size of the default protocol; None ignores it.

    Returns:
        The figures sorted by gallery size.
    """
    curve: Dict[int, float] = {}
    for key, value in record.items():
        match = _GALLERY_KEY.match(key)
        if (match and match['metric'] == metric
                and (match['prefix'] or '') == prefix):
            curve[int(match['size'])] = float(value)
    default_key = f'{prefix}/{metric}' if prefix else metric
    if default_size is not None and default_key in record:
        curve.setdefault(int(default_size), float(record[default_key]))
    return dict(sorted(curve.items()))


def plot_gallery_size(curves: Mapping[str, Mapping[int, float]],
                      metric: str = 'mAP',
                      title: Optional[str] = None,
                      styles: Optional[Sequence[str]] = None) -> Figure:
    """One line per run: the figure against gallery size (log-scaled axis).

    Args:
        curves: run name -> {gallery size: figure} (:func:`gallery_size_curve`).
        metric: the figure's name (axis label); a curve whose values all lie in
            [0, 1] is drawn in %.
        title: figure title.
        styles: line style per run (the paper dashes weakly supervised methods).

    Returns:
        The figure.

    Raises:
        ValueError: every curve is empty.
    """
    if not any(curves.values()):
        raise ValueError('plot_gallery_size: no gallery_<N> figures to plot')
    figure = Figure(figsize=(6, 4.5), layout='constrained')
    axis = figure.subplots()
    palette = colormaps['tab10']
    sizes = sorted({size for curve in curves.values() for size in curve})
    for r, (run, curve) in enumerate(curves.items()):
        if not curve:
            continue
        xs = sorted(curve)
        # MMEngine logs fractions; figures already in % are drawn as they are
        scale = 100.0 if max(abs(curve[x]) for x in xs) <= 1.0 else 1.0
        ys = [scale * curve[x] for x in xs]
        axis.plot(xs, ys, marker='o', color=palette(r % 10), label=run,
                  linestyle=styles[r] if styles else '-')
    axis.set_xscale('log')
    axis.set_xticks(sizes)
    axis.set_xticklabels([str(s) for s in sizes])
    axis.minorticks_off()
    axis.set_xlabel('gallery size')
    axis.set_ylabel(f'{metric} (%)')
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8)
    if title:
        axis.set_title(title)
    return figure
