"""Run a person-search model on one image: embed a given box, or detect and embed.

Both go through the test pipeline of the model's config without its annotation
loaders; the query box is mapped into the resized image with the pipeline's
``scale_factor`` and embedded as a query record (``is_query``: the model embeds
the given box instead of detecting, ``docs/internals.md`` section 5).
"""
import copy
import os.path as osp
from typing import Dict, List, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import Compose
from mmengine.structures import InstanceData

ImageLike = Union[str, np.ndarray]

ANNOTATION_LOADERS = frozenset({
    'LoadAnnotations', 'LoadPersonSearchAnnotations', 'LoadForegroundMasks',
    'LoadTrackAnnotations', 'LoadPanopticAnnotations'
})
"""Pipeline steps dropped for inference (there are no annotations to load)."""


def inference_pipeline(model: nn.Module, from_array: bool) -> Compose:
    """The config's test pipeline minus annotation loaders.

    Args:
        model: a model built by :func:`mmssl.apis.init_searcher` (``model.cfg``).
        from_array: the image comes as an array: the first step becomes mmdet's
            ``LoadImageFromNDArray``.
    """
    steps = copy.deepcopy(list(model.cfg.test_dataloader.dataset.pipeline))
    steps = [s for s in steps if s['type'].split('.')[-1] not in ANNOTATION_LOADERS]
    if from_array:
        steps[0] = dict(steps[0], type='mmdet.LoadImageFromNDArray')
    return Compose(steps)


def _image_name(image: ImageLike) -> str:
    return osp.basename(image) if isinstance(image, str) else '<array>'


def _pack(model: nn.Module, image: ImageLike) -> dict:
    """Pipeline output (``inputs``, ``data_samples``) of one image."""
    if isinstance(image, str):
        if not osp.isfile(image):
            raise FileNotFoundError(f'{image}: image file not found')
        results = dict(img_path=image, img_id=osp.basename(image))
    elif isinstance(image, np.ndarray):
        if image.ndim not in (2, 3) or image.size == 0:
            raise ValueError(f'image array of shape {image.shape} is not an image')
        results = dict(img=image, img_id='<array>')
    else:
        raise TypeError('image must be a file path or a numpy array, got '
                        f'{type(image).__name__}')
    results.update(cam_id=-1, is_query=False, query_index=-1, instances=[])
    return inference_pipeline(model, isinstance(image, np.ndarray))(results)


def _predict(model: nn.Module, packed: dict) -> InstanceData:
    return _predict_batch(model, [packed])[0]


def _predict_batch(model: nn.Module, packed: Sequence[dict]) -> List[InstanceData]:
    data = dict(inputs=[p['inputs'] for p in packed],
                data_samples=[p['data_samples'] for p in packed])
    with torch.no_grad():
        return [sample.pred_instances for sample in model.test_step(data)]


def check_box(box: Sequence[float], height: int, width: int,
              image_name: str) -> np.ndarray:
    """A query box ``[x1, y1, x2, y2]`` clipped to the image, as float32.

    Raises:
        ValueError: not four finite numbers, or empty after clipping (the message
            names the image and the box).
    """
    values = np.asarray(box, dtype=np.float64).reshape(-1)
    if values.size != 4 or not np.isfinite(values).all():
        raise ValueError(f'{image_name}: query box must be 4 finite numbers '
                         f'[x1, y1, x2, y2], got {list(np.ravel(box))}')
    clipped = values.copy()
    clipped[0::2] = np.clip(values[0::2], 0, width)
    clipped[1::2] = np.clip(values[1::2], 0, height)
    if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
        raise ValueError(f'{image_name}: query box {values.tolist()} is empty '
                         f'inside the {width}x{height} image')
    return clipped.astype(np.float32)


def embed_boxes(model: nn.Module, image: ImageLike,
                boxes: Sequence[Sequence[float]]) -> np.ndarray:
    """Re-id features of person boxes given in one image (as query records).

    Args:
        model: from :func:`mmssl.apis.init_searcher`.
        image: image path, or an image array (BGR, as OpenCV/mmcv read it).
        boxes: ``(n, 4)`` boxes ``[x1, y1, x2, y2]`` in original image pixels.

    Returns:
        ``(n, d)`` float32 L2-normalised features, in the order of ``boxes``.
    """
    packed = _pack(model, image)
    sample = packed['data_samples']
    height, width = sample.metainfo['ori_shape'][:2]
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        raise ValueError(f'{_image_name(image)}: no box to embed')
    boxes = np.stack([check_box(box, height, width, _image_name(image))
                      for box in boxes.reshape(-1, 4)])
    scale_w, scale_h = sample.metainfo.get('scale_factor', (1.0, 1.0))
    resized = boxes * np.array([scale_w, scale_h, scale_w, scale_h],
                               dtype=np.float32)
    sample.gt_instances = InstanceData(
        bboxes=torch.from_numpy(resized.astype(np.float32)),
        labels=torch.zeros(len(resized), dtype=torch.long))
    sample.set_metainfo(dict(is_query=True))
    pred = _predict(model, packed)
    if 'embeddings' not in pred:
        raise RuntimeError(f'{type(model).__name__} gave no embeddings: it needs a '
                           're-id head')
    return pred.embeddings.float().cpu().numpy().reshape(len(boxes), -1)


def embed_query(model: nn.Module, image: ImageLike,
                box: Sequence[float]) -> np.ndarray:
    """The re-id feature of a person box given in an image (a query).

    Args:
        model: from :func:`mmssl.apis.init_searcher`.
        image: image path, or an image array (BGR, as OpenCV/mmcv read it).
        box: ``[x1, y1, x2, y2]`` in original image pixels.

    Returns:
        ``(d,)`` float32 L2-normalised feature.
    """
    values = np.asarray(box, dtype=np.float64).reshape(-1)
    if values.size != 4:
        raise ValueError(f'{_image_name(image)}: query box must be 4 numbers '
                         f'[x1, y1, x2, y2], got {values.tolist()}')
    return embed_boxes(model, image, values[None])[0]


def detect_and_embed(model: nn.Module, image: ImageLike) -> Dict[str, np.ndarray]:
    """Detect the persons of an image and embed each detection.

    Args:
        model: from :func:`mmssl.apis.init_searcher`.
        image: image path, or an image array (BGR).

    Returns:
        dict with ``bboxes`` ``(n, 4)`` float32 (original pixels), ``scores``
        ``(n,)`` float32 and ``embeddings`` ``(n, d)`` float32 (L2-normalised).
    """
    return detect_and_embed_batch(model, [image])[0]


def detect_and_embed_batch(model: nn.Module,
                           images: Sequence[ImageLike]) -> List[Dict[str, np.ndarray]]:
    """:func:`detect_and_embed` for several images in one forward pass.

    The model's data preprocessor pads the batch to its largest image (as the test
    dataloader does with ``batch_size > 1``); frames of one size, as a camera's,
    give what one-by-one calls give.

    Args:
        model: from :func:`mmssl.apis.init_searcher`.
        images: image paths or arrays (BGR).

    Returns:
        One dict per image, in order, as :func:`detect_and_embed` returns.
    """
    if not images:
        return []
    preds = _predict_batch(model, [_pack(model, image) for image in images])
    if any('embeddings' not in pred for pred in preds):
        raise RuntimeError(f'{type(model).__name__} gave no embeddings: it needs a '
                           're-id head')
    return [
        dict(bboxes=pred.bboxes.float().cpu().numpy().reshape(-1, 4),
             scores=pred.scores.float().cpu().numpy().reshape(-1),
             embeddings=pred.embeddings.float().cpu().numpy())
        for pred in preds
    ]
