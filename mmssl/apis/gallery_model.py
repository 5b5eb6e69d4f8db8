"""Which model built a gallery index, and embedding a query given as a person crop.

An index holds the embeddings of one model: features of another checkpoint or
config live in another space and would be ranked against them meaninglessly. The
fingerprint kept in the index metadata is the embedding size, a hash of the config
parts that shape a feature (``model`` without its ``train_cfg`` / ``test_cfg``, and
the test pipeline) and a hash of the weights; :func:`check_same_model` compares it.
"""
import hashlib
import json
import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from .inference import embed_query


def embedding_size(model: nn.Module) -> Optional[int]:
    """The re-id embedding size of a person-search model (None without re-id)."""
    head = getattr(getattr(model, 'roi_head', None), 'embedding_head', None)
    return None if head is None else int(head.embed_dim)


def _config_digest(cfg) -> str:
    model = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(cfg.model)
    for key in ('train_cfg', 'test_cfg', 'init_cfg'):
        model.pop(key, None)
    backbone = dict(model.get('backbone') or {})
    backbone.pop('init_cfg', None)
    model['backbone'] = backbone
    spec = dict(model=model, test_pipeline=list(cfg.test_dataloader.dataset.pipeline))
    text = json.dumps(spec, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _weights_digest(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(f'{name}:{value.dtype}:{tuple(value.shape)}'.encode())
        digest.update(value.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def model_fingerprint(model: nn.Module) -> dict:
    """``embed_dim``, ``config_sha256`` and ``weights_sha256`` of a model built by
    :func:`mmssl.apis.init_searcher` (``model.cfg``)."""
    return dict(embed_dim=embedding_size(model),
                config_sha256=_config_digest(model.cfg),
                weights_sha256=_weights_digest(model))


def check_same_model(stored: dict, model: dict, where: str) -> None:
    """Raise when ``model`` (a fingerprint) is not the model of an index.

    Args:
        stored: the fingerprint in the index metadata.
        model: the fingerprint of the model at hand.
        where: the index folder, for the message.

    Raises:
        ValueError: another embedding size, config or checkpoint.
    """
    if stored.get('embed_dim') != model.get('embed_dim'):
        raise ValueError(
            f'{where}: the index holds {stored.get("embed_dim")}-d embeddings, the '
            f'model gives {model.get("embed_dim")}-d ones: use the config and '
            'checkpoint that built the index')
    if stored.get('config_sha256') != model.get('config_sha256'):
        raise ValueError(
            f'{where}: the config differs from the one that built the index (model '
            'or test pipeline): its features are not comparable; use the '
            "index's config.py, or build a new index")
    if stored.get('weights_sha256') != model.get('weights_sha256'):
        raise ValueError(
            f'{where}: the checkpoint differs from the one that built the index '
            '(other weights give features in another space); use that checkpoint, '
            'or build a new index')


def crop_canvas(crop: np.ndarray,
                frame_size: Tuple[int, int]) -> Tuple[np.ndarray, Sequence[float]]:
    """Place a person crop at its own size in the middle of a frame-sized canvas.

    The canvas is filled with the mean colour of the crop's border, so the test
    pipeline resizes the person as it resizes the gallery frames (a crop resized on
    its own to the test scale would show the person many times larger than any
    gallery detection). A crop larger than the frame is shrunk to fit.

    Args:
        crop: ``(h, w, 3)`` BGR image of one person.
        frame_size: ``(height, width)`` of the gallery frames.

    Returns:
        ``(canvas, box)``: the canvas and the crop's box ``[x1, y1, x2, y2]`` in it.
    """
    import cv2
    crop = np.asarray(crop)
    if crop.ndim == 2:
        crop = np.repeat(crop[..., None], 3, axis=2)
    if crop.ndim != 3 or crop.shape[0] < 2 or crop.shape[1] < 2:
        raise ValueError(f'query crop of shape {crop.shape} is not an image')
    height, width = (int(v) for v in frame_size)
    scale = min(1.0, height / crop.shape[0], width / crop.shape[1])
    if scale < 1.0:
        crop = cv2.resize(crop, (max(2, int(crop.shape[1] * scale)),
                                 max(2, int(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]])
    canvas = np.empty((height, width, 3), dtype=crop.dtype)
    canvas[:] = border.reshape(-1, 3).mean(axis=0).astype(crop.dtype)
    y1 = (height - crop.shape[0]) // 2
    x1 = (width - crop.shape[1]) // 2
    canvas[y1:y1 + crop.shape[0], x1:x1 + crop.shape[1]] = crop[..., :3]
    return canvas, [x1, y1, x1 + crop.shape[1], y1 + crop.shape[0]]


def embed_person_crop(model: nn.Module, crop: np.ndarray,
                      frame_size: Tuple[int, int]) -> np.ndarray:
    """The query feature of a person crop (:func:`crop_canvas`, then
    :func:`mmssl.apis.embed_query` on the crop's box)."""
    canvas, box = crop_canvas(crop, frame_size)
    return embed_query(model, canvas, box)


def index_searcher(meta: dict, where: str, config=None, checkpoint=None,
                   device: str = 'cpu', cfg_options: Optional[dict] = None):
    """The searcher of a gallery index: ``config`` / ``checkpoint`` when given, else
    the config text and checkpoint path kept in its metadata.

    Args:
        meta: the index metadata (:attr:`GalleryIndex.meta`).
        where: the index folder, for messages.

    Raises:
        ValueError / FileNotFoundError: the metadata lacks them (an index built
            from features) or the recorded checkpoint is gone; the message says
            to pass ``--config`` / ``--checkpoint``.
    """
    from mmengine.config import Config

    from .searcher import init_searcher
    if config is None:
        if not meta.get('config'):
            raise ValueError(f'{where}: the index records no config; pass --config')
        config = Config.fromstring(meta['config'], '.py')
    if checkpoint is None:
        checkpoint = meta.get('checkpoint')
        if checkpoint is None:
            raise ValueError(f'{where}: the index records no checkpoint; pass '
                             '--checkpoint')
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'{where}: the index was built with {checkpoint}, '
                                    'which is not there any more; pass --checkpoint')
    return init_searcher(config, checkpoint, device=device, cfg_options=cfg_options)
