"""Person scale classes for cross-scale breakdowns of search results.

The classes are the paper's (Sec. 4, Fig. 7): a person box is *small* below 3,600 px²,
*large* above 45,300 px², *medium* in between (box area ``w * h`` in original image
pixels). Plain numpy; no mmdet import.
"""
from typing import Sequence, Tuple

import numpy as np

SCALE_CLASS_NAMES: Tuple[str, str, str] = ('small', 'medium', 'large')
SCALE_AREA_BOUNDS: Tuple[float, float] = (3600.0, 45300.0)


def box_scale_class(boxes: np.ndarray,
                    area_bounds: Tuple[float, float] = SCALE_AREA_BOUNDS) -> np.ndarray:
    """Scale class of each box: 0 small, 1 medium, 2 large (paper Fig. 7).

    Args:
        boxes: ``(n, 4)`` boxes ``[x1, y1, x2, y2]``.
        area_bounds: ``(small_below, large_above)`` in px²; an area equal to a bound
            falls in the medium class.

    Returns:
        ``(n,)`` int64 class indices into :data:`SCALE_CLASS_NAMES`.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return (area >= area_bounds[0]).astype(np.int64) + (area > area_bounds[1])


def cross_scale_query_mask(query_boxes: np.ndarray,
                           positive_boxes: Sequence[np.ndarray],
                           area_bounds: Tuple[float, float] = SCALE_AREA_BOUNDS
                           ) -> Tuple[np.ndarray, np.ndarray]:
    """Split queries into cross-scale and same-scale ones.

    A query is *cross-scale* when at least one of its ground-truth matches in the
    gallery (``positive_boxes[q]``) falls in another scale class than its query box,
    and *same-scale* when all its matches share the query box's class. A query with
    no match is in neither set.

    Args:
        query_boxes: ``(Q, 4)`` query boxes.
        positive_boxes: ``Q`` arrays ``(n_q, 4)`` of the query's gallery matches, as
            returned in :class:`SearchResult.positive_boxes`.
        area_bounds: see :func:`box_scale_class`.

    Returns:
        ``(cross, same)``: two ``(Q,)`` bool masks.
    """
    query_class = box_scale_class(query_boxes, area_bounds)
    if len(positive_boxes) != len(query_class):
        raise ValueError(f'cross_scale_query_mask: {len(query_class)} query boxes but '
                         f'{len(positive_boxes)} positive box arrays')
    counts = np.array([len(np.asarray(b).reshape(-1, 4)) for b in positive_boxes],
                      dtype=np.int64)
    cross = np.zeros(len(query_class), dtype=bool)
    if counts.sum():
        owner = np.repeat(np.arange(len(counts)), counts)
        pos_class = box_scale_class(
            np.concatenate([np.asarray(b, dtype=np.float64).reshape(-1, 4)
                            for b in positive_boxes]), area_bounds)
        differs = pos_class != query_class[owner]
        cross[owner[differs]] = True
    same = (counts > 0) & ~cross
    return cross, same
