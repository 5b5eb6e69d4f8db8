"""How SeqNet's readers turn the stored ``[x, y, w, h]`` boxes into corners.

The evaluator every person-search paper reports with (SeqNet's ``eval_func.py``) reads
the ground truth through SeqNet's own dataset readers (serend1p1ty/SeqNet
``datasets/prw.py``, ``datasets/cuhk_sysu.py``), which round the boxes to integers.
Reading the boxes the same way makes mmssl's figures comparable with the papers'
tables (docs/evaluation.md section 3; docs/datasets.md says where each reader uses it).
The functions below state those rules; they need no image size: nothing is clipped at
the right or bottom edge, and no box is dropped. Plain numpy; no mmdet import.
"""
import numpy as np


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
