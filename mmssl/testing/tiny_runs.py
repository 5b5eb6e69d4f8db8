"""Tiny SynthPS roots and tiny SSL configs for tests that train for a few iterations."""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from mmssl.utils.config_entries import config_hooks

TINY_SYNTHPS = dict(
    seed=0,
    num_train_ids=6,
    num_test_ids=4,
    num_train_frames=8,
    num_test_frames=6,
    num_cameras=2,
    height=96,
    width=128,
    min_person_height=16,
    max_person_height=80,
    progress=False)


def config_path(name: str) -> str:
    """Path of a config shipped with mmssl (checkout's ``configs/`` or ``.mim``)."""
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.join(osp.dirname(package), 'configs'),
                 osp.join(package, '.mim', 'configs')):
        path = osp.join(root, name)
        if osp.exists(path):
            return path
    raise FileNotFoundError(f'config {name!r} not found next to {package}')


def render_tiny_synthps(root: str) -> str:
    """Render a tiny SynthPS (8 train and 6 test frames of 96 x 128) into ``root``."""
    from mmssl.synthps import render_synthps
    if not osp.exists(osp.join(root, 'frame_train.mat')):
        render_synthps(root, **TINY_SYNTHPS)
    return root


def tiny_ssl_config(data_root: str,
                    work_dir: str,
                    config: str = 'ssl_r18c16-c4_6e_synthps.py',
                    max_epochs: int = 2,
                    seed: Optional[int] = 0) -> Config:
    """``configs/<config>`` shrunk to a few-second CPU run on a tiny SynthPS root.

    The network keeps its structure (two box stages, exemplar branch, all losses,
    both hooks) with 8 base channels, 64 x 96 exemplar crops at most, no data
    workers and logging every iteration.
    """
    cfg = Config.fromfile(config_path(config))
    cfg.work_dir = work_dir
    model = cfg.model
    model.backbone.base_channels = 8
    model.backbone.init_cfg = None  # the packaged weights are for 16 channels
    model.rpn_head.in_channels = 32
    model.rpn_head.feat_channels = 32
    roi = model.roi_head
    roi.bbox_roi_extractor.out_channels = 32
    roi.stage_shared_heads.update(in_channels=32, planes=32, num_blocks=1,
                                  init_cfg=None)
    for head in roi.bbox_head:
        head.in_channels = 32
    if roi.get('embedding_head') is not None:
        roi.embedding_head.in_channels = 32
        roi.embedding_head.embed_dim = 32
        model.memory.feat_dim = 32
    if model.get('exemplar_branch') is not None:
        model.exemplar_branch.scales = [(32, 16), (64, 32)]
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = data_root
        loader.dataset.render_cfg = dict(TINY_SYNTHPS)
        for step in loader.dataset.pipeline:
            if step['type'] == 'Resize':
                step['scale'] = (128, 96)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = max_epochs
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.optim_wrapper.optimizer.lr = 0.01
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.default_hooks.visualization = dict(type='DetVisualizationHook')
    for hook in config_hooks(cfg, 'PseudoLabelHook'):
        # labels from the second epoch on, small neighbourhoods for 30 boxes
        hook['start_epoch'] = 1
        hook['label_cfg'] = dict(hook.get('label_cfg', {}), k1=5, k2=2,
                                 min_samples=2)
    if seed is not None:
        cfg.randomness = dict(seed=seed, deterministic=True)
    cfg.log_level = 'INFO'
    return cfg
