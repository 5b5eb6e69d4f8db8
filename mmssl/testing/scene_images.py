"""Tiny scene images and instance-index masks for the dataset fixtures."""
import os
import os.path as osp
from typing import Sequence

import cv2
import numpy as np


def clipped_corner_boxes(rows_xywh: np.ndarray, height: int,
                         width: int) -> np.ndarray:
    """``[x, y, w, h]`` rows as integer ``[x1, y1, x2, y2]`` inside the image."""
    boxes = np.asarray(rows_xywh, dtype=np.float64).reshape(-1, 4)
    x1 = np.clip(np.floor(boxes[:, 0]), 0, width)
    y1 = np.clip(np.floor(boxes[:, 1]), 0, height)
    x2 = np.clip(np.ceil(boxes[:, 0] + boxes[:, 2]), 0, width)
    y2 = np.clip(np.ceil(boxes[:, 1] + boxes[:, 3]), 0, height)
    return np.stack([x1, y1, x2, y2], axis=1).astype(int)


def write_scene_image(path: str, rows_xywh: np.ndarray, height: int, width: int,
                      seed: int) -> None:
    """A JPEG with a noisy background and one coloured block per person box."""
    rng = np.random.default_rng(seed)
    image = rng.integers(60, 120, size=(height, width, 3), dtype=np.uint8)
    for x1, y1, x2, y2 in clipped_corner_boxes(rows_xywh, height, width):
        if x2 > x1 and y2 > y1:
            colour = rng.integers(130, 255, size=3)
            image[y1:y2, x1:x2] = colour.astype(np.uint8)
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
        raise OSError(f'{path}: could not write the image')


def write_instance_mask(path: str, rows_xywh: np.ndarray, valid: Sequence[bool],
                        height: int, width: int) -> None:
    """The instance-index PNG of ``docs/internals.md`` section 4.

    The person of row ``k`` is the ellipse inscribed in its (clipped) box, value
    ``k + 1``, cut to the box; later rows are drawn over earlier ones.
    """
    mask = np.zeros((height, width), dtype=np.uint8)
    boxes = clipped_corner_boxes(rows_xywh, height, width)
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        if not valid[k] or x2 <= x1 or y2 <= y1:
            continue
        layer = np.zeros((height, width), dtype=np.uint8)
        centre = ((x1 + x2 - 1) // 2, (y1 + y2 - 1) // 2)
        axes = (max((x2 - x1) // 2, 1), max((y2 - y1) // 2, 1))
        cv2.ellipse(layer, centre, axes, 0, 0, 360, 1, thickness=-1)
        inside = np.zeros_like(layer)
        inside[y1:y2, x1:x2] = 1
        mask[(layer > 0) & (inside > 0)] = k + 1
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, mask):
        raise OSError(f'{path}: could not write the mask')
