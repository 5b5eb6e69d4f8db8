"""Intersection over union of boxes given row by row.

Boxes are ``[x1, y1, x2, y2]`` in pixels with the continuous convention of the
person-search reference evaluations (SeqNet/NAE/CGPS ``eval_func.py``): width is
``x2 - x1`` (no ``+ 1``). Plain numpy; no mmdet import.
"""
import numpy as np


def aligned_box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU of ``boxes_a[i]`` with ``boxes_b[i]`` for every row ``i``.

    Args:
        boxes_a: ``(n, 4)`` boxes ``[x1, y1, x2, y2]``.
        boxes_b: ``(n, 4)`` boxes, paired row by row with ``boxes_a``.

    Returns:
        ``(n,)`` float64 IoU; 0 where the union is empty (two degenerate boxes).
    """
    boxes_a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    boxes_b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    if boxes_a.shape != boxes_b.shape:
        raise ValueError(f'aligned_box_iou: {boxes_a.shape[0]} boxes paired with '
                         f'{boxes_b.shape[0]} boxes')
    inter_w = np.minimum(boxes_a[:, 2], boxes_b[:, 2]) - np.maximum(boxes_a[:, 0], boxes_b[:, 0])
    inter_h = np.minimum(boxes_a[:, 3], boxes_b[:, 3]) - np.maximum(boxes_a[:, 1], boxes_b[:, 1])
    inter = np.clip(inter_w, 0, None) * np.clip(inter_h, 0, None)
    area_a = (boxes_a[:, 2] - boxes_a[:, 0]) * (boxes_a[:, 3] - boxes_a[:, 1])
    area_b = (boxes_b[:, 2] - boxes_b[:, 0]) * (boxes_b[:, 3] - boxes_b[:, 1])
    union = area_a + area_b - inter
    iou = np.zeros(len(boxes_a), dtype=np.float64)
    np.divide(inter, union, out=iou, where=union > 0)
    return iou
