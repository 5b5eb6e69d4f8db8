"""t-SNE map of re-id features: colour = identity, marker = scale class (Fig. 7)."""
from typing import Optional

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mmssl.evaluation.functional import SCALE_AREA_BOUNDS, box_scale_class

SCALE_MARKERS = ('o', 'x', 's')
"""Marker of the small, medium and large classes (circle, cross, square)."""
EXACT_TSNE_MAX_POINTS = 300
"""Up to this many points t-SNE runs with exact gradients (else Barnes-Hut)."""


def tsne_project(features: np.ndarray, perplexity: float = 30.0,
                 seed: int = 0) -> np.ndarray:
    """2-d t-SNE (scikit-learn, PCA init) of the features.

    Args:
        features: ``(n, d)`` features, ``n >= 2``.
        perplexity: t-SNE perplexity; lowered to ``n - 1`` for small ``n``.
        seed: random state.

    Returns:
        ``(n, 2)`` float32 coordinates.
    """
    from sklearn.manifold import TSNE  # a second or two to import: only when used
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f'tsne_project: need at least 2 features (n, d), got '
                         f'shape {features.shape}')
    perplexity = float(min(perplexity, len(features) - 1))
    # exact gradients for small sets: Barnes-Hut's threaded loop costs more there
    method = 'exact' if len(features) <= EXACT_TSNE_MAX_POINTS else 'barnes_hut'
    # scikit-learn's 'auto' rate, max(n / 48, 50), stalls small maps in local
    # minima (seen with scikit-learn 1.9): at least 200, the classic default
    learning_rate = max(len(features) / 48.0, 200.0)
    tsne = TSNE(n_components=2, perplexity=perplexity, init='pca', method=method,
                learning_rate=learning_rate, random_state=seed)
    return tsne.fit_transform(features).astype(np.float32)


def plot_identity_tsne(points: np.ndarray,
                       person_ids: np.ndarray,
                       bboxes: np.ndarray,
                       title: Optional[str] = None,
                       area_bounds=SCALE_AREA_BOUNDS,
                       size: float = 6.0) -> Figure:
    """Scatter t-SNE points: one colour per identity, marker by box scale class.

    Scale classes as in the paper's Fig. 7: area below 3,600 px² circle, 3,600 to
    45,300 cross, above 45,300 square (``area_bounds``).

    Args:
        points: ``(n, 2)`` coordinates (e.g. :func:`tsne_project`).
        person_ids: ``(n,)`` identity of each point.
        bboxes: ``(n, 4)`` the box of each point (original pixels).
        title: figure title.
        area_bounds: ``(small_below, large_above)`` in px².
        size: figure side in inches.

    Returns:
        The figure.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    person_ids = np.asarray(person_ids).reshape(-1)
    scale = box_scale_class(bboxes, area_bounds)
    if not len(points) == len(person_ids) == len(scale):
        raise ValueError(f'plot_identity_tsne: {len(points)} points, '
                         f'{len(person_ids)} ids, {len(scale)} boxes')
    identities = np.unique(person_ids)
    palette = colormaps['tab20'] if len(identities) <= 20 else colormaps['hsv']
    figure = Figure(figsize=(size, size), layout='constrained')
    axis = figure.subplots()
    for k, pid in enumerate(identities):
        colour = (palette(k % 20) if len(identities) <= 20 else
                  palette(k / len(identities)))
        for cls, marker in enumerate(SCALE_MARKERS):
            chosen = (person_ids == pid) & (scale == cls)
            if chosen.any():
                filled = marker != 'x'
                axis.scatter(points[chosen, 0], points[chosen, 1], s=36,
                             marker=marker, linewidths=1.5,
                             c=[colour] if not filled else None,
                             facecolors=[colour] if filled else None,
                             edgecolors='black' if filled else None)
    names = (f'small (< {area_bounds[0]:,.0f} px²)',
             f'medium ({area_bounds[0]:,.0f}-{area_bounds[1]:,.0f} px²)',
             f'large (> {area_bounds[1]:,.0f} px²)')
    handles = [Line2D([], [], linestyle='none', marker=m, color='grey',
                      markeredgecolor='black' if m != 'x' else 'grey',
                      markersize=7, label=n)
               for m, n in zip(SCALE_MARKERS, names)]
    axis.legend(handles=handles, loc='best', fontsize=8, framealpha=0.8)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title or f't-SNE of {len(points)} boxes, '
                   f'{len(identities)} identities', fontsize=10)
    return figure
