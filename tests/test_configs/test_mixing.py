"""configs/mixing: MMDetection's Faster R-CNN FPN (an ``mmdet::`` base) turned into an
SSL person searcher, shrunk and trained for a few iterations with MMEngine's Runner."""
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

CONFIG = Path(__file__).resolve().parents[2] / 'configs' / 'mixing' / \
    'ssl_faster-rcnn_r50_fpn_1x_synthps.py'
RENDER = dict(seed=1, num_train_ids=6, num_test_ids=2, num_train_frames=8,
              num_test_frames=4, height=128, width=192, min_person_height=16,
              max_person_height=112, progress=False)
WIDTH = 32  # FPN channels of the shrunk model


def test_config_inherits_mmdet_faster_rcnn_fpn():
    cfg = Config.fromfile(str(CONFIG))
    model = cfg.model
    assert model.type == 'PersonSearchDetector'
    # from mmdet's faster-rcnn_r50_fpn base, through the mmdet:: prefix
    assert model.backbone.type == 'ResNet' and model.backbone.depth == 50
    assert model.neck.type == 'FPN' and model.neck.in_channels == [256, 512, 1024, 2048]
    assert model.rpn_head.anchor_generator.strides == [4, 8, 16, 32, 64]
    assert model.train_cfg.rpn.sampler.num == 256
    roi_head = model.roi_head
    assert roi_head.type == 'PersonSearchRoIHead' and roi_head.num_stages == 1
    assert roi_head.stage_shared_heads is None
    assert roi_head.bbox_head.type == 'Shared2FCBBoxHead'
    assert roi_head.bbox_head.num_classes == 1
    assert roi_head.embedding_head == dict(type='ReIDEmbeddingHead', in_channels=256,
                                           embed_dim=256, num_domains=5)
    assert isinstance(model.train_cfg.rcnn, list) and len(model.train_cfg.rcnn) == 1
    assert [model.loss_scale.type, model.loss_cluster.type, model.loss_dml.type] == [
        'ScaleInvariantLoss', 'ClusterContrastLoss', 'DynamicMultiLabelLoss']
    assert model.exemplar_branch.with_original
    assert [h.type for h in cfg.custom_hooks] == ['MemoryBankHook', 'PseudoLabelHook']
    assert cfg.custom_imports.imports == ['mmssl']
    # SynthPS replaced COCO everywhere (no CocoDataset keys left over)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[key].dataset
        assert dataset.type == 'SynthPSDataset' and 'ann_file' not in dataset
    assert cfg.val_evaluator == dict(type='PersonSearchMetric')
    assert cfg.test_evaluator == dict(type='PersonSearchMetric')


def shrink(cfg: Config, data_root: str, work_dir: str) -> Config:
    """ResNet-18 with 16 base channels, 32-channel FPN, tiny SynthPS, 2 x 2 iterations."""
    model = cfg.model
    # batch norms frozen as the mmdet base has them (norm_eval): in train mode
    # a crop batch of one 1x1 map has no batch statistics
    model.backbone.update(depth=18, base_channels=16, init_cfg=None, frozen_stages=-1,
                          norm_eval=True)
    model.neck.update(in_channels=[16, 32, 64, 128], out_channels=WIDTH)
    model.rpn_head.update(in_channels=WIDTH, feat_channels=WIDTH)
    roi = model.roi_head
    roi.bbox_roi_extractor.out_channels = WIDTH
    roi.bbox_head.update(in_channels=WIDTH, fc_out_channels=64)
    roi.embedding_head.in_channels = WIDTH
    model.exemplar_branch.scales = [(32, 16), (64, 32)]
    model.train_cfg.rpn.sampler.num = 64
    model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=64)
    model.train_cfg.rcnn[0].sampler.num = 16
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=data_root, render_cfg=RENDER)
        for step in loader.dataset.pipeline:
            if step['type'] == 'Resize':
                step['scale'] = (RENDER['width'], RENDER['height'])
    cfg.train_dataloader.dataset.indices = 4  # 2 iterations per epoch
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=100)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.custom_hooks[0].num_workers = 0
    # labels from epoch 1 on; min_samples 2: the tiny bank has few boxes per person
    cfg.custom_hooks[1].label_cfg.update(k1=6, k2=3, min_samples=2)
    cfg.work_dir = work_dir
    cfg.experiment_name = 'mixing_test'
    cfg.randomness = dict(seed=0)
    return cfg


class LossRecorder(Hook):
    """Keeps the loss dict of every training iteration."""

    def __init__(self):
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items()})


@pytest.mark.timeout(300)
def test_mixed_model_trains_with_reid_losses_and_memory(tmp_path):
    from mmengine.runner import Runner
    cfg = shrink(Config.fromfile(str(CONFIG)), str(tmp_path / 'synthps') + '/',
                 str(tmp_path / 'work'))
    runner = Runner.from_cfg(cfg)
    recorder = LossRecorder()
    runner.register_hook(recorder)
    # one torch thread: on a loaded 2-core machine two OpenMP threads made this
    # tiny model's iterations several times slower (measured here)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runner.train()
    finally:
        torch.set_num_threads(threads)

    model = runner.model
    assert type(model.roi_head.bbox_head[0]).__name__ == 'Shared2FCBBoxHead'
    assert type(model.neck).__name__ == 'FPN'
    assert len(recorder.losses) == 4
    first, last = recorder.losses[0], recorder.losses[-1]
    # epoch 0: scale-invariant loss and the instance contrast (no pseudo labels yet)
    assert {'loss_scale', 'loss_instance', 'loss_rpn_cls', 's0.loss_cls'} <= set(first)
    # epoch 1: pseudo labels exist, cluster and dynamic multi-label losses appear
    assert {'loss_scale', 'loss_cluster', 'loss_dml_instance',
            'loss_dml_exemplar'} <= set(last)
    assert all(math.isfinite(v) for losses in recorder.losses for v in losses.values())
    # memory banks sized to the 4 training images' boxes and filled with unit rows
    num = runner.train_dataloader.dataset.num_instances
    memory = model.memory
    assert num > 0 and memory.num_samples == num and bool(memory.initialised)
    for bank in (memory.instance_feats, memory.exemplar_feats):
        assert bank.shape == (num, 256)
        torch.testing.assert_close(bank.norm(dim=1), torch.ones(num), atol=1e-3,
                                   rtol=0)
    assert model.pseudo_labels.has_labels and int(model.pseudo_labels.epoch) == 1
