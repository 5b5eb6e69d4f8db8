"""How the stored ``[x, y, w, h]`` boxes become ``[x1, y1, x2, y2]``: two readings.

* ``'seqnet'``: as SeqNet's readers (serend1p1ty/SeqNet ``datasets/prw.py``,
  ``datasets/cuhk_sysu.py``) read them. The evaluator every person-search paper
  reports with (SeqNet's ``eval_func.py``) takes its ground truth from those readers,
  which round the boxes to integers; reading them the same way makes mmssl's figures
  comparable with the papers' tables (docs/evaluation.md section 3). These rules need
  no image size: nothing is clipped at the right or bottom edge, no box is dropped.
* ``'clipped'``: float corners clipped to the image, boxes without area left dropped
  (:func:`clip_xywh_boxes`); what training needs.

docs/datasets.md ("How boxes are read") says which reader uses which by default.
Plain numpy; no mmdet import.
"""
from typing import Optional, Tuple

import numpy as np

from .image_header import UNKNOWN_SIZE

BOX_READINGS = ('seqnet', 'clipped')
"""How the PRW and CUHK-SYSU readers turn stored boxes into corners
(docs/datasets.md, "How boxes are read")."""


def clip_xywh_boxes(boxes: np.ndarray, width: int,
                    height: int) -> Tuple[np.ndarray, np.ndarray]:
    """Convert ``[x, y, w, h]`` boxes to ``[x1, y1, x2, y2]`` clipped to the image.

    Args:
        boxes: ``(K, 4)`` boxes; negative coordinates are allowed (PRW has them).
        width: image width.
        height: image height.

    Returns:
        ``(K, 4)`` float64 clipped corner boxes and a ``(K,)`` bool array, True
        where the box is valid: ``w > 0`` and ``h > 0`` as stored and a non-empty
        area after clipping.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x1 = np.clip(boxes[:, 0], 0, width)
    y1 = np.clip(boxes[:, 1], 0, height)
    x2 = np.clip(boxes[:, 0] + boxes[:, 2], 0, width)
    y2 = np.clip(boxes[:, 1] + boxes[:, 3], 0, height)
    xyxy = np.stack([x1, y1, x2, y2], axis=1)
    valid = ((boxes[:, 2] > 0) & (boxes[:, 3] > 0) & (x2 > x1) & (y2 > y1))
    return xyxy, valid


def area_inside_image(xyxy: np.ndarray, width: int, height: int) -> np.ndarray:
    """Whether each ``[x1, y1, x2, y2]`` box keeps an area inside the image.

    With an unknown size (:data:`UNKNOWN_SIZE`) only the box's own area is checked.

    Returns:
        ``(K,)`` bool.
    """
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    if width != UNKNOWN_SIZE and height != UNKNOWN_SIZE:
        xyxy = np.clip(xyxy, 0, [width, height, width, height])
    return (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])


def resolve_box_reading(box_reading: Optional[str], split: str,
                        read_image_sizes: bool, source: str) -> str:
    """The box reading of a PRW or CUHK-SYSU dataset.

    None picks ``'seqnet'`` on the test split (the figures papers print come from
    SeqNet's evaluator, which reads the boxes so) and ``'clipped'`` on the train
    split (training needs boxes inside the image).

    Raises:
        ValueError: an unknown reading, or ``'clipped'`` (which needs each image's
            size) without ``read_image_sizes``.
    """
    if box_reading is None:
        box_reading = 'seqnet' if split == 'test' else 'clipped'
    if box_reading not in BOX_READINGS:
        raise ValueError(f'{source}: box_reading must be one of {BOX_READINGS}, got '
                         f'{box_reading!r}')
    if box_reading == 'clipped' and not read_image_sizes:
        raise ValueError(f"{source}: box_reading='clipped' clips the boxes to each "
                         "image and needs its size; use read_image_sizes=True or "
                         "box_reading='seqnet'")
    return box_reading


def _xywh(boxes) -> np.ndarray:
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def prw_seqnet_boxes(boxes) -> np.ndarray:
    """PRW gallery and train boxes as SeqNet reads them.

    ``x``, ``y``, ``w`` and ``h`` are each clipped at 0, then ``x2 = x + w`` and
    ``y2 = y + h``, and all four corners are truncated to integers.

    Args:
        boxes: ``(K, 4)`` stored ``[x, y, w, h]`` rows.

    Returns:
        ``(K, 4)`` float64 ``[x1, y1, x2, y2]`` with integer values.
    """
    xywh = np.clip(_xywh(boxes), 0, None)
    return np.trunc(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1))


def prw_seqnet_query_boxes(boxes) -> np.ndarray:
    """PRW query boxes (``query_info.txt``) as SeqNet reads them.

    SeqNet's query reader works in another order than its gallery reader:
    ``[x, y, x + w, y + h]`` is truncated to integers first and clipped at 0 after,
    so a query with a negative ``x`` keeps its right edge at ``x + w``.

    Args:
        boxes: ``(K, 4)`` stored ``[x, y, w, h]`` rows.

    Returns:
        ``(K, 4)`` float64 ``[x1, y1, x2, y2]`` with integer values.
    """
    xywh = _xywh(boxes)
    corners = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    return np.clip(np.trunc(corners), 0, None)


def cuhk_seqnet_boxes(boxes) -> np.ndarray:
    """CUHK-SYSU boxes (``Images.mat``, ``TestG*.mat``) as SeqNet reads them.

    ``x``, ``y``, ``w`` and ``h`` are truncated to integers (towards 0), then
    ``x2 = x + w`` and ``y2 = y + h``; nothing is clipped. (SeqNet drops the boxes with
    ``w`` or ``h`` <= 0 before, on the stored values.)

    Args:
        boxes: ``(K, 4)`` stored ``[x, y, w, h]`` rows.

    Returns:
        ``(K, 4)`` float64 ``[x1, y1, x2, y2]`` with integer values.
    """
    xywh = np.trunc(_xywh(boxes))
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
