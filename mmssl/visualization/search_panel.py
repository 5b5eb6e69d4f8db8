"""Compose the picture of one search: the query and its ranked gallery matches.

Like the paper's Fig. 5: the query image with its box, then the top-k gallery
images with the matched box, its rank and similarity; a match framed in green when
it is the query's person, red when it is not (ground truth known), blue otherwise.
Matplotlib ``Figure`` objects only (no pyplot state), so it works under any
backend and in worker threads.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

QUERY_COLOUR = '#ffbf00'
CORRECT_COLOUR = '#00b000'
WRONG_COLOUR = '#e00000'
UNKNOWN_COLOUR = '#1f77b4'


def _to_rgb(image: np.ndarray, channel_order: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f'draw_search_panel: image of shape {image.shape} is not '
                         'a colour or grey image')
    image = image[..., :3]
    if channel_order == 'bgr':
        return image[..., ::-1]
    if channel_order == 'rgb':
        return image
    raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")


def crop_around_box(image: np.ndarray, box: Sequence[float],
                    context: Optional[float]) -> Tuple[np.ndarray, np.ndarray]:
    """Cut the image around a box with ``context`` box sizes of margin per side.

    Args:
        image: ``(H, W, C)`` array.
        box: ``[x1, y1, x2, y2]``.
        context: margin in units of the box's width (left/right) and height
            (top/bottom); None keeps the whole image.

    Returns:
        ``(crop, box_in_crop)``.
    """
    box = np.asarray(box, dtype=np.float64).reshape(4)
    if context is None:
        return image, box
    height, width = image.shape[:2]
    w, h = box[2] - box[0], box[3] - box[1]
    x1 = int(np.clip(np.floor(box[0] - context * w), 0, width - 1))
    y1 = int(np.clip(np.floor(box[1] - context * h), 0, height - 1))
    x2 = int(np.clip(np.ceil(box[2] + context * w), x1 + 1, width))
    y2 = int(np.clip(np.ceil(box[3] + context * h), y1 + 1, height))
    return image[y1:y2, x1:x2], box - np.array([x1, y1, x1, y1], dtype=np.float64)


def _show(axis, image: np.ndarray, box: np.ndarray, colour: str, title: str,
          frame: bool) -> None:
    axis.imshow(image, interpolation='nearest')
    axis.add_patch(Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1],
                             fill=False, edgecolor=colour, linewidth=2))
    axis.set_title(title, fontsize=9, color=colour if frame else 'black')
    axis.set_xticks([])
    axis.set_yticks([])
    for spine in axis.spines.values():
        spine.set_edgecolor(colour if frame else '#808080')
        spine.set_linewidth(4 if frame else 1)


def draw_search_panel(query_image: np.ndarray,
                      query_box: Sequence[float],
                      match_images: Sequence[np.ndarray],
                      match_boxes: np.ndarray,
                      similarities: Sequence[float],
                      correct: Optional[Sequence[bool]] = None,
                      ranks: Optional[Sequence[int]] = None,
                      match_titles: Optional[Sequence[str]] = None,
                      title: Optional[str] = None,
                      channel_order: str = 'bgr',
                      context: Optional[float] = None,
                      cell_height: float = 3.0,
                      crop_context: Optional[float] = None) -> Figure:
    """One row: the query image, then each match, left to right by rank.

    With ``crop_context``, a second row shows each person enlarged (a crop
    around its box), for persons too small to see in a whole frame.

    Args:
        query_image: ``(H, W, 3)`` uint8 image (or ``(H, W)`` grey).
        query_box: ``[x1, y1, x2, y2]`` of the query person.
        match_images: the gallery image of each match.
        match_boxes: ``(k, 4)`` the matched detection in its image.
        similarities: ``(k,)`` similarity of each match.
        correct: ``(k,)`` whether each match is the query's person (green / red);
            None when the ground truth is unknown (blue).
        ranks: rank printed on each match; default 1..k.
        match_titles: an extra line under each match's rank (e.g. image name).
        title: the figure's title.
        channel_order: ``'bgr'`` (OpenCV/mmcv arrays) or ``'rgb'``.
        context: crop every image around its box with this margin (in box sizes);
            None shows whole images.
        cell_height: height of the row in inches.
        crop_context: add the row of enlarged persons, cropped with this margin
            (in box sizes) around each box; None: one row only.

    Returns:
        The figure; save it with :func:`mmssl.visualization.save_figure`.

    Raises:
        ValueError: the per-match sequences differ in length.
    """
    num = len(match_images)
    match_boxes = np.asarray(match_boxes, dtype=np.float64).reshape(-1, 4)
    similarities = np.asarray(similarities, dtype=np.float64).reshape(-1)
    ranks = list(range(1, num + 1)) if ranks is None else list(ranks)
    lengths = dict(boxes=len(match_boxes), similarities=len(similarities),
                   ranks=len(ranks))
    if correct is not None:
        lengths['correct'] = len(correct)
    if match_titles is not None:
        lengths['match_titles'] = len(match_titles)
    for name, length in lengths.items():
        if length != num:
            raise ValueError(f'draw_search_panel: {length} {name} for {num} match '
                             'images')
    images = [_to_rgb(query_image, channel_order)] + [
        _to_rgb(image, channel_order) for image in match_images]
    boxes = [np.asarray(query_box, dtype=np.float64).reshape(4)] + list(match_boxes)
    cells = [crop_around_box(image, box, context)
             for image, box in zip(images, boxes)]
    aspects = [max(image.shape[1], 1) / max(image.shape[0], 1) for image, _ in cells]
    if num == 0:
        aspects.append(1.0)  # a cell saying that nothing matched
    rows = 1 if crop_context is None else 2
    figure = Figure(figsize=(cell_height * sum(aspects) + 0.2 * len(aspects),
                             rows * cell_height + (0.8 if title else 0.5)),
                    layout='constrained')
    grid = figure.subplots(rows, len(aspects), squeeze=False,
                           gridspec_kw=dict(width_ratios=aspects))
    axes = grid[0]
    styles = [(QUERY_COLOUR, True, 'query')]
    for j in range(num):
        if correct is None:
            colour, frame = UNKNOWN_COLOUR, False
        else:
            colour, frame = (CORRECT_COLOUR if correct[j] else WRONG_COLOUR), True
        text = f'rank {ranks[j]}  sim {similarities[j]:.3f}'
        if match_titles is not None:
            text += f'\n{match_titles[j]}'
        styles.append((colour, frame, text))
    for j, ((image, box), (colour, frame, text)) in enumerate(zip(cells, styles)):
        _show(axes[j], image, box, colour, text, frame)
    if crop_context is not None:
        for j, (image, box, (colour, frame, _)) in enumerate(zip(images, boxes,
                                                                  styles)):
            crop, crop_box = crop_around_box(image, box, crop_context)
            _show(grid[1][j], crop, crop_box, colour,
                  f'{box[3] - box[1]:.0f} px tall', frame)
    if num == 0:
        for row in grid:
            row[1].set_axis_off()
        axes[1].text(0.5, 0.5, 'no gallery detection\nabove the score threshold',
                     ha='center', va='center', fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    return figure
