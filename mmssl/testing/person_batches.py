"""Synthetic training batches for the detector: random scenes with person boxes.

Used by the model tests and by ``benchmarks/gpu_check.py`` (a 1500 x 900 pair for
the paper model) where no dataset is at hand.
"""
from typing import Dict, List, Sequence

import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData


def person_batch(boxes_per_image: Sequence[Sequence[Sequence[float]]],
                 height: int, width: int, seed: int = 0,
                 with_masks: bool = True) -> Dict[str, List]:
    """Random uint8 images with the given person boxes, as a data preprocessor
    takes them.

    The boxes are numbered image by image from 0 (``instance_indices``, the memory
    rows), as the datasets number them; each gets a box-shaped foreground mask.

    Args:
        boxes_per_image: per image, its ``[x1, y1, x2, y2]`` boxes.
        height: image height.
        width: image width.
        seed: seed of the pixels.
        with_masks: add ``gt_instances.masks``.

    Returns:
        ``dict(inputs=[(3, H, W) uint8], data_samples=[DetDataSample])``.
    """
    generator = torch.Generator().manual_seed(seed)
    inputs, samples, row = [], [], 0
    for boxes in boxes_per_image:
        inputs.append(torch.randint(0, 255, (3, height, width), dtype=torch.uint8,
                                    generator=generator))
        sample = DetDataSample(metainfo=dict(
            img_shape=(height, width), ori_shape=(height, width),
            pad_shape=(height, width), scale_factor=(1.0, 1.0),
            batch_input_shape=(height, width)))
        gt = InstanceData()
        gt.bboxes = HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32))
        gt.labels = torch.zeros(len(boxes), dtype=torch.long)
        gt.instance_indices = torch.arange(row, row + len(boxes))
        gt.person_ids = torch.full((len(boxes), ), -1)
        row += len(boxes)
        if with_masks:
            masks = torch.zeros(len(boxes), height, width, dtype=torch.uint8)
            for k, (x1, y1, x2, y2) in enumerate(boxes):
                masks[k, int(y1):int(y2), int(x1):int(x2)] = 1
            gt.masks = BitmapMasks(masks.numpy(), height, width)
        sample.gt_instances = gt
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)
