"""Build a person-search model for inference from a config and a checkpoint."""
from pathlib import Path
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_state_dict
from mmengine.utils import import_modules_from_strings

from mmdet.registry import MODELS


def load_checkpoint_file(path: str, trust_checkpoint: bool) -> dict:
    """Read a checkpoint file into CPU memory.

    Raises:
        FileNotFoundError: no such file.
        RuntimeError: torch refused the file in weights-only mode (the message
            says how to load a trusted MMEngine checkpoint).
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f'{path}: checkpoint file not found')
    try:
        return torch.load(path, map_location='cpu',
                          weights_only=not trust_checkpoint)
    except Exception as err:  # pickle.UnpicklingError on disallowed globals
        if trust_checkpoint:
            raise
        raise RuntimeError(
            f'{path}: torch.load refused it in weights-only mode ({err}). '
            'MMEngine training checkpoints hold numpy and mmengine objects; load '
            'a checkpoint you trust with trust_checkpoint=True') from err


def init_searcher(config: Union[str, Path, Config],
                  checkpoint: Optional[str] = None,
                  device: str = 'cpu',
                  cfg_options: Optional[dict] = None,
                  trust_checkpoint: bool = True) -> nn.Module:
    """Build a person-search detector from a config, load weights, switch to eval.

    The steps of :func:`mmdet.apis.init_detector` (default scope, build,
    SyncBN reverted, weights, ``model.cfg``, device, eval), plus what a config
    written for MMEngine's Runner expects first: its ``custom_imports`` (e.g.
    ``mmssl``) are imported, and no pretrained backbone weights are fetched. The
    test pipeline used by :func:`embed_query` and :func:`detect_and_embed` is that
    of ``config.test_dataloader``.

    Args:
        config: config file or :class:`mmengine.Config`.
        checkpoint: checkpoint file (``state_dict`` and optional
            ``meta.dataset_meta``, as MMEngine saves); None leaves the weights as
            initialised.
        device: ``'cpu'``, ``'cuda:0'``...
        cfg_options: overrides merged into the config (``key.sub=value`` keys).
        trust_checkpoint: read the checkpoint with ``weights_only=False``, which
            MMEngine training checkpoints need on torch >= 2.6 (they hold numpy
            arrays and message-hub objects). Unpickling can run code: keep it for
            files of your own runs or from a source you trust; False uses torch's
            weights-only loader.

    Returns:
        The model in eval mode with its config in ``model.cfg``.

    Raises:
        TypeError: ``config`` is neither a path nor a Config.
        ValueError: the config has no ``test_dataloader`` dataset pipeline.
    """
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif isinstance(config, Config):
        config = config.copy()
    else:
        raise TypeError('config must be a file name or an mmengine Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    name = getattr(config, 'filename', None) or 'config'
    if config.get('custom_imports'):
        import_modules_from_strings(**config['custom_imports'])
    loader = config.get('test_dataloader') or {}
    if 'pipeline' not in (loader.get('dataset') or {}):
        raise ValueError(f'{name}: test_dataloader.dataset.pipeline is needed for '
                         'inference')
    if 'init_cfg' in config.model.get('backbone', {}):
        config.model.backbone.init_cfg = None  # the checkpoint holds the weights
    init_default_scope(config.get('default_scope', 'mmdet'))
    model = revert_sync_batchnorm(MODELS.build(config.model))
    model.dataset_meta = dict(classes=('person', ))
    if checkpoint is not None:
        state = load_checkpoint_file(checkpoint, trust_checkpoint)
        state_dict = state.get('state_dict', state)
        state_dict = {(k[len('module.'):] if k.startswith('module.') else k): v
                      for k, v in state_dict.items()}
        load_state_dict(model, state_dict, strict=False, logger='current')
        dataset_meta = state.get('meta', {}).get('dataset_meta')
        if dataset_meta:
            model.dataset_meta = {k.lower(): v for k, v in dataset_meta.items()}
    model.cfg = config
    model.to(device)
    model.eval()
    return model
