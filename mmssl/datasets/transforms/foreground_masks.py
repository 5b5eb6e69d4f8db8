"""Foreground masks of the person boxes, the ``mask`` of the paper's Eq. (1).

The exemplar branch multiplies each person crop by a binary foreground mask before
resizing it (Eq. 1: ``x_s = T(x_o * mask, s)``). Three sources give that mask, one
full-image binary mask per box:

* ``'file'``: the instance-index PNG of ``docs/internals.md`` section 4 (value
  ``k + 1`` = the foreground of the box on annotation row ``k``); what a human
  parser or SynthPS writes;
* ``'grabcut'``: OpenCV GrabCut initialised by the box (computed on the fly; for
  whole datasets precompute it once into the ``'file'`` layout);
* ``'box'``: the whole box (the unmasked ablation).

The mask functions are plain numpy/OpenCV; :class:`LoadForegroundMasks` is the only
transform that computes masks (``LoadPersonSearchAnnotations(with_fg_mask=True)``
runs it).
"""
import os.path as osp
from typing import Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get

from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks

MASK_SOURCES = ('file', 'grabcut', 'box')


def masks_from_instance_map(instance_map: np.ndarray,
                            ann_rows: Sequence[int]) -> np.ndarray:
    """Binary masks of the given annotation rows from an instance-index map.

    Args:
        instance_map: ``(H, W)`` integer map; value ``k + 1`` marks row ``k``.
        ann_rows: ``(n,)`` annotation rows; a negative row gives an empty mask.

    Returns:
        ``(n, H, W)`` uint8 masks of 0/1.
    """
    rows = np.asarray(ann_rows, dtype=np.int64).reshape(-1)
    values = np.where(rows >= 0, rows + 1, -1)
    return (instance_map[None].astype(np.int64) ==
            values[:, None, None]).astype(np.uint8)


def box_masks(bboxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Masks that cover every pixel a ``[x1, y1, x2, y2]`` box touches.

    Returns:
        ``(n, height, width)`` uint8 masks of 0/1.
    """
    bboxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
    masks = np.zeros((len(bboxes), height, width), dtype=np.uint8)
    for k, (x1, y1, x2, y2) in enumerate(bboxes):
        c1, r1 = max(int(np.floor(x1)), 0), max(int(np.floor(y1)), 0)
        c2, r2 = min(int(np.ceil(x2)), width), min(int(np.ceil(y2)), height)
        masks[k, r1:r2, c1:c2] = 1
    return masks


def grabcut_mask(image: np.ndarray,
                 bbox: Sequence[float],
                 iterations: int = 3,
                 margin: float = 0.25,
                 seed: int = 0) -> np.ndarray:
    """Foreground of one person by GrabCut initialised with its box.

    GrabCut runs on the box enlarged by ``margin`` of its size on each side (the
    enlargement supplies background samples), with OpenCV's RNG seeded so the
    result is reproducible. The foreground (definite and probable) is kept inside
    the box. When GrabCut cannot run (a box without background around it, a box
    under 2 px) or finds no foreground, the whole box is returned.

    Args:
        image: ``(H, W, 3)`` uint8 image.
        bbox: ``[x1, y1, x2, y2]``.
        iterations: GrabCut iterations.
        margin: context around the box, as a fraction of its width/height.
        seed: OpenCV RNG seed.

    Returns:
        ``(H, W)`` uint8 mask of 0/1.
    """
    height, width = image.shape[:2]
    box = box_masks(np.asarray(bbox)[None], height, width)[0]
    x1, y1, x2, y2 = (float(v) for v in bbox)
    bw, bh = x2 - x1, y2 - y1
    cx1 = max(int(np.floor(x1 - margin * bw)), 0)
    cy1 = max(int(np.floor(y1 - margin * bh)), 0)
    cx2 = min(int(np.ceil(x2 + margin * bw)), width)
    cy2 = min(int(np.ceil(y2 + margin * bh)), height)
    rect = (int(np.floor(x1)) - cx1, int(np.floor(y1)) - cy1,
            max(int(round(bw)), 1), max(int(round(bh)), 1))
    crop = np.ascontiguousarray(image[cy1:cy2, cx1:cx2, :3], dtype=np.uint8)
    if (rect[2] < 2 or rect[3] < 2
            or (rect[0] <= 0 and rect[1] <= 0
                and rect[0] + rect[2] >= crop.shape[1]
                and rect[1] + rect[3] >= crop.shape[0])):
        return box
    label = np.zeros(crop.shape[:2], dtype=np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(seed)
    try:
        cv2.grabCut(crop, label, rect, bgd, fgd, iterations,
                    cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return box
    foreground = ((label == cv2.GC_FGD) | (label == cv2.GC_PR_FGD))
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[cy1:cy2, cx1:cx2] = foreground
    mask &= box
    return mask if mask.any() else box


@TRANSFORMS.register_module()
class LoadForegroundMasks(BaseTransform):
    """Put one full-image foreground mask per person box into ``gt_masks``.

    Reads the boxes and their ``ann_row`` from the record's ``instances`` and
    writes ``gt_masks`` (:class:`BitmapMasks`, ``(n, H, W)``, in the order of
    ``gt_bboxes``); mmdet's ``Resize``, ``RandomFlip`` and ``Pad`` then transform
    the masks with the image. Place it before any geometric transform.

    Args:
        source: ``'file'`` (the record's ``fg_mask_path``), ``'grabcut'`` (needs
            ``img``: place it after ``LoadImageFromFile``) or ``'box'``.
        fallback: None (a missing mask file or a box without ``ann_row`` is an
            error naming the image) or ``'box'`` (use the whole box instead).
        grabcut_iterations: GrabCut iterations (``source='grabcut'``).
        grabcut_margin: GrabCut context around the box (fraction of its size).
        backend_args: file backend arguments for reading the mask PNG.
    """

    def __init__(self,
                 source: str = 'file',
                 fallback: Optional[str] = None,
                 grabcut_iterations: int = 3,
                 grabcut_margin: float = 0.25,
                 backend_args: Optional[dict] = None) -> None:
        if source not in MASK_SOURCES:
            raise ValueError(f'LoadForegroundMasks: source must be one of '
                             f'{MASK_SOURCES}, got {source!r}')
        if fallback not in (None, 'box'):
            raise ValueError(f"LoadForegroundMasks: fallback must be None or "
                             f"'box', got {fallback!r}")
        self.source = source
        self.fallback = fallback
        self.grabcut_iterations = grabcut_iterations
        self.grabcut_margin = grabcut_margin
        self.backend_args = backend_args

    def _image_shape(self, results: dict):
        if 'ori_shape' in results:
            return tuple(int(v) for v in results['ori_shape'][:2])
        return int(results['height']), int(results['width'])

    def _file_masks(self, results: dict, bboxes: np.ndarray,
                    rows: np.ndarray, height: int, width: int) -> np.ndarray:
        name = results.get('img_path', results.get('img_id'))
        path = results.get('fg_mask_path')
        if path is None or not osp.isfile(path):
            if self.fallback == 'box':
                return box_masks(bboxes, height, width)
            reason = ('it has no fg_mask_path' if path is None else
                      f'its mask file {path} is missing')
            raise FileNotFoundError(
                f'{name}: no foreground mask: {reason} (write instance-index '
                "PNGs under <data_root>/masks/, or use fallback='box' / "
                "source='grabcut' or 'box')")
        instance_map = mmcv.imfrombytes(
            get(path, backend_args=self.backend_args), flag='unchanged')
        if instance_map is None or instance_map.ndim != 2:
            raise ValueError(f'{path}: expected a single-channel instance-index '
                             f'PNG, got shape '
                             f'{getattr(instance_map, "shape", None)}')
        if instance_map.shape != (height, width):
            raise ValueError(f'{path}: mask of shape {instance_map.shape} for '
                             f'image {name} of shape {(height, width)}')
        masks = masks_from_instance_map(instance_map, rows)
        missing = rows < 0
        if missing.any():
            if self.fallback != 'box':
                raise ValueError(f'{name}: {int(missing.sum())} boxes have no '
                                 "annotation row (ann_row -1) to find their mask "
                                 "in; use fallback='box'")
            masks[missing] = box_masks(bboxes[missing], height, width)
        return masks

    def transform(self, results: dict) -> dict:
        """Add ``gt_masks`` (one binary mask per box of ``instances``)."""
        instances = results.get('instances', [])
        bboxes = np.array([inst['bbox'] for inst in instances],
                          dtype=np.float64).reshape(-1, 4)
        rows = np.array([inst.get('ann_row', -1) for inst in instances],
                        dtype=np.int64)
        height, width = self._image_shape(results)
        if self.source == 'file':
            masks = self._file_masks(results, bboxes, rows, height, width)
        elif self.source == 'box':
            masks = box_masks(bboxes, height, width)
        else:
            image = results.get('img')
            if image is None or image.shape[:2] != (height, width):
                raise ValueError(
                    f'{results.get("img_path")}: GrabCut masks need the '
                    'original image: put LoadForegroundMasks right after '
                    'LoadImageFromFile, before geometric transforms')
            masks = np.stack([
                grabcut_mask(image, box, self.grabcut_iterations,
                             self.grabcut_margin) for box in bboxes
            ]) if len(bboxes) else np.zeros((0, height, width), np.uint8)
        results['gt_masks'] = BitmapMasks(masks, height, width)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(source={self.source!r}, '
                f'fallback={self.fallback!r})')
