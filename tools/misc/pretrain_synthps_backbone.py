"""Pretrain the CPU detector's backbone on SynthPS attribute crops (the ImageNet stand-in).

    python tools/misc/pretrain_synthps_backbone.py \\
        --out mmssl/checkpoints/synthps_r18c16_attributes.pth

renders frames with attribute-labelled person and background boxes
(:mod:`mmssl.synthps.attribute_samples`, seeds ``--seed`` for training and
``--seed + 1`` for validation; random appearances, no identities), trains the
backbone and res5 of ``--config`` with one linear head per attribute plus a
person/background head, on the boxes as RoIs of their frames and on the same boxes
cut out as crops, and writes their weights with torchvision's names, which
``configs/_base_/models/ssl_r18c16_c4.py`` loads with
``init_cfg=dict(type='Pretrained', checkpoint='mmssl://synthps_r18c16_attributes')``.
The defaults made the shipped checkpoint (docs/pretraining.md gives its recipe and
accuracies); about 15 minutes on 2 CPU cores.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import time
from typing import Iterable, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.models.classifiers import AttributeClassifier  # noqa: E402
from mmssl.synthps.attribute_samples import (ATTRIBUTE_CLASSES,  # noqa: E402
                                             AttributeFrames, AttributeSamples,
                                             render_attribute_frames)


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=osp.join(
        osp.dirname(__file__), '..', '..', 'configs', 'ssl_r18c16-c4_6e_synthps.py'),
        help='detector config whose backbone and res5 are pretrained')
    parser.add_argument('--out', required=True, help='checkpoint to write')
    parser.add_argument('--seed', type=int, default=1000,
                        help='render seed of the training crops (validation: '
                        'seed + 1)')
    parser.add_argument('--frames', type=int, default=2000,
                        help='frames composed for training')
    parser.add_argument('--val-frames', type=int, default=200)
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--frames-per-batch', type=int, default=8)
    parser.add_argument('--crops-per-batch', type=int, default=64)
    parser.add_argument('--lr', type=float, default=0.1)
    parser.add_argument('--weight-decay', type=float, default=5e-4)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch intra-op threads (1 is fastest on 2 shared '
                        'cores, see TorchThreadsHook)')
    return parser.parse_args(argv)


def to_tensor(images: np.ndarray, mean: torch.Tensor,
              std: torch.Tensor) -> torch.Tensor:
    """BGR uint8 ``(n, H, W, 3)`` -> normalised RGB ``(n, 3, H, W)``, as the
    detector's ``DetDataPreprocessor`` (``bgr_to_rgb=True``) feeds its backbone."""
    # contiguous: a channels-last view would make conv outputs channels-last too,
    # which mmcv's RoIAlign reads as if they were not
    rgb = torch.from_numpy(images[..., ::-1].copy()).permute(0, 3, 1, 2)
    rgb = rgb.float().contiguous()
    return (rgb - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random horizontal flips and, for a third of the crops, a lower resolution
    (the crop shrunk to 25-75% and scaled back, as a far person's RoI looks)."""
    import cv2
    out = images.copy()
    flip = rng.random(len(out)) < 0.5
    out[flip] = out[flip, :, ::-1]
    height, width = out.shape[1:3]
    for i in np.flatnonzero(rng.random(len(out)) < 1 / 3):
        factor = rng.uniform(0.25, 0.75)
        small = cv2.resize(out[i], (max(4, int(width * factor)),
                                    max(8, int(height * factor))),
                           interpolation=cv2.INTER_AREA)
        out[i] = cv2.resize(small, (width, height),
                            interpolation=cv2.INTER_LINEAR)
    return out


def augment_frames(images: np.ndarray, boxes: list,
                   rng: np.random.Generator, max_shift: int = 16):
    """Random horizontal flips and shifts of whole frames (edges repeated), boxes
    moved along: a person then meets the stride-16 grid at every offset."""
    import cv2
    height, width = images.shape[1:3]
    out_images, out_boxes = images.copy(), []
    for i, b in enumerate(boxes):
        b = b.copy()
        if rng.random() < 0.5:
            out_images[i] = out_images[i, :, ::-1]
            b[:, [0, 2]] = width - b[:, [2, 0]]
        dx, dy = (int(v) for v in rng.integers(-max_shift, max_shift + 1, 2))
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        out_images[i] = cv2.warpAffine(out_images[i], shift, (width, height),
                                       borderMode=cv2.BORDER_REPLICATE)
        b[:, [0, 2]] = np.clip(b[:, [0, 2]] + dx, 0, width)
        b[:, [1, 3]] = np.clip(b[:, [1, 3]] + dy, 0, height)
        out_boxes.append(b)
    return out_images, out_boxes


def frame_batch(frames: AttributeFrames, index: np.ndarray, mean, std,
                rng: Optional[np.random.Generator] = None):
    """Images, RoIs and labels of the frames at ``index`` (augmented with
    ``rng``)."""
    images = frames.images[index]
    boxes = [frames.boxes[i] for i in index]
    if rng is not None:
        images, boxes = augment_frames(images, boxes, rng)
    rois = torch.cat([
        torch.cat([torch.full((len(b), 1), float(k)), torch.from_numpy(b)], 1)
        for k, b in enumerate(boxes)
    ])
    is_person = torch.from_numpy(np.concatenate([frames.is_person[i]
                                                 for i in index]))
    attributes = torch.from_numpy(np.concatenate([frames.attributes[i]
                                                  for i in index]))
    return to_tensor(images, mean, std), rois, is_person, attributes


def weighted_accuracies(model: AttributeClassifier, batches: Iterable) -> dict:
    """Accuracy of every head over ``batches``, in eval mode.

    Args:
        model: the classifier (back in training mode afterwards).
        batches: ``(images, rois, is_person, attributes)`` tuples; ``rois`` None
            for crops (one sample an image).

    Returns:
        Head name -> accuracy, each batch weighted by what the head scores in it:
        its samples (RoIs or crops) for the person head, its persons for the
        attribute heads.
    """
    model.eval()
    totals, counts = {}, {}
    for images, rois, is_person, attributes in batches:
        weights = dict(person=len(images) if rois is None else len(rois))
        weights.update({name: int(is_person.sum()) for name in ATTRIBUTE_CLASSES})
        for name, value in model.accuracies(images, is_person, attributes,
                                            rois).items():
            totals[name] = totals.get(name, 0.0) + value * weights[name]
            counts[name] = counts.get(name, 0) + weights[name]
    model.train()
    return {name: totals[name] / max(counts[name], 1) for name in totals}


def evaluate_frames(model: AttributeClassifier, frames: AttributeFrames,
                    mean: torch.Tensor, std: torch.Tensor,
                    batch_size: int = 16) -> dict:
    """Accuracy of every head on the RoIs of ``frames``, weighted by count."""
    return weighted_accuracies(model, (
        frame_batch(frames, np.arange(start, min(start + batch_size, len(frames))),
                    mean, std)
        for start in range(0, len(frames), batch_size)))


def evaluate(model: AttributeClassifier, samples: AttributeSamples,
             mean: torch.Tensor, std: torch.Tensor,
             batch_size: int = 256) -> dict:
    """Accuracy of every head on ``samples``, weighted by batch size."""
    parts = (slice(start, start + batch_size)
             for start in range(0, len(samples), batch_size))
    return weighted_accuracies(model, (
        (to_tensor(samples.images[part], mean, std), None,
         torch.from_numpy(samples.is_person[part]),
         torch.from_numpy(samples.attributes[part])) for part in parts))


def build_classifier(cfg: Config) -> AttributeClassifier:
    """The config's backbone, RoI extractor and res5, batch norms in training
    mode, no init."""
    backbone = cfg.model.backbone.copy()
    res5 = cfg.model.roi_head.stage_shared_heads.copy()
    for part in (backbone, res5):
        part.pop('init_cfg', None)
        part['norm_eval'] = False
        part['norm_cfg'] = dict(type='BN', requires_grad=True)
    return AttributeClassifier(backbone, res5,
                               cfg.model.roi_head.bbox_roi_extractor.copy(),
                               ATTRIBUTE_CLASSES)


def main(argv=None) -> dict:
    """Render the crops, train, write the checkpoint; returns its meta data."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    logger = MMLogger.get_instance('pretrain_synthps_backbone')
    init_default_scope('mmdet')
    cfg = Config.fromfile(args.config)
    preprocessor = cfg.model.data_preprocessor
    mean = torch.tensor(preprocessor.mean, dtype=torch.float32)
    std = torch.tensor(preprocessor.std, dtype=torch.float32)

    start = time.perf_counter()
    logger.info(f'rendering {args.frames} + {args.val_frames} frames with '
                f'attribute-labelled boxes (seeds {args.seed}, {args.seed + 1})')
    train = render_attribute_frames(args.seed, args.frames, progress=True)
    val = render_attribute_frames(args.seed + 1, args.val_frames)
    train_crops, val_crops = train.crops(seed=args.seed), val.crops(seed=args.seed)
    logger.info(f'{len(train_crops)} training boxes ({train_crops.is_person.mean():.2f} '
                f'persons), {len(val_crops)} validation boxes, '
                f'{time.perf_counter() - start:.0f} s')

    model = build_classifier(cfg).train()
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim == 1 else decay).append(param)
    optimizer = torch.optim.SGD(
        [dict(params=decay, weight_decay=args.weight_decay),
         dict(params=no_decay, weight_decay=0.0)],
        lr=args.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = len(train) // args.frames_per_batch
    total_steps = steps_per_epoch * args.epochs
    warmup = min(steps_per_epoch, total_steps // 4)
    rng = np.random.default_rng(args.seed)
    step = 0
    for epoch in range(args.epochs):
        order = rng.permutation(len(train))
        crop_order = rng.permutation(len(train_crops))
        running = []
        for batch in range(steps_per_epoch):
            lr = args.lr * (min(1.0, (step + 1) / max(warmup, 1)) * 0.5 *
                            (1 + math.cos(math.pi * step / total_steps)))
            for group in optimizer.param_groups:
                group['lr'] = lr
            index = order[batch * args.frames_per_batch:(batch + 1) *
                          args.frames_per_batch]
            images, rois, is_person, attributes = frame_batch(
                train, index, mean, std, rng)
            losses = model.loss(images, is_person, attributes, rois)
            crops = np.take(crop_order, np.arange(
                batch * args.crops_per_batch, (batch + 1) * args.crops_per_batch),
                mode='wrap')
            crop_losses = model.loss(
                to_tensor(augment(train_crops.images[crops], rng), mean, std),
                torch.from_numpy(train_crops.is_person[crops]),
                torch.from_numpy(train_crops.attributes[crops]))
            loss = losses['loss'] + crop_losses['loss']
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running.append(float(loss.detach()))
            step += 1
        rois_accuracy = evaluate_frames(model, val, mean, std)
        crops_accuracy = evaluate(model, val_crops, mean, std)
        logger.info(
            f'epoch {epoch + 1}/{args.epochs}: loss {np.mean(running):.3f}, '
            f'val RoIs: person {rois_accuracy["person"]:.3f}, attributes (mean) '
            f'{np.mean([rois_accuracy[n] for n in ATTRIBUTE_CLASSES]):.3f}; val '
            f'crops: person {crops_accuracy["person"]:.3f}, attributes (mean) '
            f'{np.mean([crops_accuracy[n] for n in ATTRIBUTE_CLASSES]):.3f}; '
            f'{time.perf_counter() - start:.0f} s')

    rois_accuracy = evaluate_frames(model, val, mean, std)
    crops_accuracy = evaluate(model, val_crops, mean, std)
    meta = dict(
        task='SynthPS attribute and person classification of boxes, as RoIs of '
        'their frames and as crops (random appearances, no identities)',
        config=osp.basename(args.config),
        recipe=dict(seed=args.seed, frames=args.frames, val_frames=args.val_frames,
                    epochs=args.epochs, frames_per_batch=args.frames_per_batch,
                    crops_per_batch=args.crops_per_batch, lr=args.lr,
                    weight_decay=args.weight_decay, train_boxes=len(train_crops),
                    val_boxes=len(val_crops)),
        val_accuracy_rois={k: round(v, 4) for k, v in rois_accuracy.items()},
        val_accuracy_crops={k: round(v, 4) for k, v in crops_accuracy.items()},
        seconds=round(time.perf_counter() - start, 1))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save(dict(state_dict=model.export_state_dict(), meta=meta), args.out)
    logger.info(f'wrote {args.out} ({osp.getsize(args.out) / 2**20:.1f} MiB): '
                + json.dumps(meta))
    return meta


if __name__ == '__main__':
    main()
