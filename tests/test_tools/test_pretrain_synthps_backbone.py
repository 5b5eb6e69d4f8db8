"""The ImageNet stand-in: pretraining tool, its checkpoint, and loading it as
``init_cfg=dict(type='Pretrained')`` does."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmssl  # noqa: F401
from mmssl.models.pretrained_checkpoints import packaged_checkpoint_path
from mmssl.synthps.attribute_samples import (ATTRIBUTE_CLASSES, NO_ATTRIBUTE,
                                             render_attribute_frames)

ROOT = osp.join(osp.dirname(__file__), '..', '..')
CONFIG = osp.join(ROOT, 'configs', 'ssl_r18c16-c4_6e_synthps.py')


def load_tool():
    path = osp.join(ROOT, 'tools', 'misc', 'pretrain_synthps_backbone.py')
    spec = importlib.util.spec_from_file_location('pretrain_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_attribute_frames_are_seeded_and_labelled():
    a = render_attribute_frames(5, num_frames=6)
    b = render_attribute_frames(5, num_frames=6)
    assert a.images.shape == (6, 256, 384, 3)
    assert (a.images == b.images).all()
    persons = np.concatenate(a.is_person)
    labels = np.concatenate(a.attributes)
    boxes = np.concatenate(a.boxes)
    assert persons.any() and (~persons).any() and len(boxes) == len(persons)
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    assert (labels[~persons] == NO_ATTRIBUTE).all()
    for k, count in enumerate(ATTRIBUTE_CLASSES.values()):
        assert ((labels[persons, k] >= 0) & (labels[persons, k] < count)).all()
    crops = a.crops()
    assert crops.images.shape == (len(boxes), 96, 48, 3)
    assert (crops.is_person == persons).all()


def detector_with_init(checkpoint: str):
    """The SynthPS detector with its backbone and res5 initialised from a file."""
    init_default_scope('mmdet')
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    cfg.model.roi_head.stage_shared_heads.init_cfg.checkpoint = checkpoint
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def test_tool_trains_and_the_detector_loads_its_weights(tmp_path):
    tool = load_tool()
    out = str(tmp_path / 'pretrained.pth')
    meta = tool.main(['--out', out, '--frames', '16', '--val-frames', '4',
                      '--epochs', '1', '--crops-per-batch', '16'])
    assert meta['recipe']['train_boxes'] > 16
    assert 0.0 <= meta['val_accuracy_rois']['person'] <= 1.0
    state = torch.load(out, map_location='cpu')['state_dict']
    model = detector_with_init(out)
    assert torch.equal(model.backbone.conv1.weight, state['conv1.weight'])
    assert torch.equal(model.backbone.bn1.running_var, state['bn1.running_var'])
    for stage in model.roi_head.stage_shared_heads:
        assert torch.equal(stage[0].conv1.weight, state['layer4.0.conv1.weight'])


def test_packaged_checkpoint_fits_the_synthps_config():
    path = packaged_checkpoint_path('synthps_r18c16_attributes')
    state = torch.load(path, map_location='cpu')['state_dict']
    model = detector_with_init('mmssl://synthps_r18c16_attributes')
    backbone = model.backbone.state_dict()
    for key, value in backbone.items():
        assert torch.equal(value, state[key]), key
    res5 = model.roi_head.stage_shared_heads[1].state_dict()
    for key, value in res5.items():
        assert torch.equal(value, state[f'layer4.{key}']), key
    assert osp.getsize(path) <= 5 * 2**20
    with pytest.raises(FileNotFoundError, match='ships no checkpoint'):
        packaged_checkpoint_path('no_such_weights')
