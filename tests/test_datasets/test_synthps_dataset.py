"""SynthPSDataset: render on first use, once, under a lock; then read as PRW."""
import json
import multiprocessing
import os
import os.path as osp
import time

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmssl.synthps as synthps_package
from mmssl.datasets import SynthPSDataset
from mmssl.datasets.synthps_dataset import (ensure_synthps_rendered,
                                            render_lock_path)
from mmssl.testing import write_tiny_prw_root


def make_fake_renderer(calls_file, delay=0.0):
    """A renderer that logs its call and writes the tiny PRW root."""

    def fake_render(root, **cfg):
        with open(calls_file, 'a') as f:
            f.write(json.dumps(cfg) + '\n')
        time.sleep(delay)
        write_tiny_prw_root(root)
        return {}

    return fake_render


def test_renders_once_then_reads(tmp_path, monkeypatch):
    calls = tmp_path / 'calls.txt'
    monkeypatch.setattr(synthps_package, 'render_synthps',
                        make_fake_renderer(str(calls)), raising=False)
    root = str(tmp_path / 'data' / 'synthps')
    train = SynthPSDataset(data_root=root, split='train',
                           render_cfg=dict(seed=3, num_train_frames=5))
    assert [json.loads(line) for line in calls.read_text().splitlines()] == [
        dict(seed=3, num_train_frames=5)
    ]
    assert len(train) == 4 and train.num_instances == 8
    assert train.get_data_info(0)['fg_mask_path'] == osp.join(
        root, 'masks', 'c1s1_000001.png')
    test = SynthPSDataset(data_root=root, split='test', render_cfg=dict(seed=3))
    assert len(test) == 9
    assert test.metainfo['search_protocol']['default'] == 'single_view'
    assert len(calls.read_text().splitlines()) == 1  # not rendered again
    assert osp.isfile(render_lock_path(root))
    assert render_lock_path(root) == osp.join(str(tmp_path / 'data'),
                                              '.synthps.render.lock')


def test_render_without_completion_marker_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(synthps_package, 'render_synthps',
                        lambda root, **cfg: os.makedirs(root), raising=False)
    with pytest.raises(RuntimeError, match='without writing frame_train.mat'):
        ensure_synthps_rendered(str(tmp_path / 'synthps'))


def _build_in_child(root, barrier, out_file):
    barrier.wait()
    dataset = SynthPSDataset(data_root=root, split='train')
    with open(out_file, 'w') as f:
        f.write(str(dataset.num_instances))


def test_concurrent_processes_render_once(tmp_path, monkeypatch):
    calls = tmp_path / 'calls.txt'
    monkeypatch.setattr(synthps_package, 'render_synthps',
                        make_fake_renderer(str(calls), delay=0.5),
                        raising=False)
    root = str(tmp_path / 'synthps')
    context = multiprocessing.get_context('fork')
    barrier = context.Barrier(3)
    outputs = [str(tmp_path / f'out{i}.txt') for i in range(3)]
    processes = [
        context.Process(target=_build_in_child, args=(root, barrier, out))
        for out in outputs
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    assert len(calls.read_text().splitlines()) == 1
    assert [open(out).read() for out in outputs] == ['8', '8', '8']


def test_real_renderer_end_to_end(tmp_path):
    """A tiny real SynthPS render read back, masks aligned with the boxes."""
    init_default_scope('mmdet')
    render_cfg = dict(seed=1, num_train_ids=6, num_test_ids=4,
                      num_train_frames=4, num_test_frames=4, num_cameras=2,
                      height=64, width=96, min_person_height=16,
                      max_person_height=48, progress=False)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadPersonSearchAnnotations', with_fg_mask=True),
        dict(type='RandomFlip', prob=1.0),
        dict(type='PackPersonSearchInputs'),
    ]
    root = str(tmp_path / 'synthps')
    dataset = SynthPSDataset(data_root=root, split='train',
                             render_cfg=render_cfg, pipeline=pipeline)
    assert len(dataset) > 0 and dataset.num_instances > 0
    gt = dataset[0]['data_samples'].gt_instances
    boxes = gt.bboxes.numpy()
    for mask, (x1, y1, x2, y2) in zip(gt.masks.masks, boxes):
        outside = mask.copy()
        outside[int(np.floor(y1)):int(np.ceil(y2)),
                int(np.floor(x1)):int(np.ceil(x2))] = 0
        assert outside.sum() == 0
    test = SynthPSDataset(data_root=root, split='test', render_cfg=render_cfg)
    protocol = test.metainfo['search_protocol']
    assert len(test) == len(protocol['gallery_img_ids']) + len(
        protocol['queries'])


def test_root_of_another_version_or_parameters_is_rendered_again(tmp_path):
    from mmssl.synthps.writer import MARKER_FILE, RENDERER_VERSION
    from mmssl.testing import TINY_SYNTHPS
    from mmssl.datasets.synthps_dataset import stale_synthps_root
    root = str(tmp_path / 'synthps')
    cfg = dict(TINY_SYNTHPS)
    assert ensure_synthps_rendered(root, cfg) is True
    assert stale_synthps_root(root, cfg) is None
    assert ensure_synthps_rendered(root, cfg) is False
    assert 'seed=0 (wanted 1)' in stale_synthps_root(root, dict(cfg, seed=1))
    marker_path = osp.join(root, MARKER_FILE)
    marker = json.load(open(marker_path))
    marker['version'] = RENDERER_VERSION - 1
    json.dump(marker, open(marker_path, 'w'))
    assert f'version {RENDERER_VERSION - 1}' in stale_synthps_root(root, cfg)
    assert ensure_synthps_rendered(root, cfg) is True  # rendered again
    assert json.load(open(marker_path))['version'] == RENDERER_VERSION


def test_unset_parameters_are_not_stale_and_a_stale_root_keeps_its_sizes(tmp_path):
    from mmssl.synthps.writer import MARKER_FILE, RENDERER_VERSION
    from mmssl.testing import TINY_SYNTHPS
    from mmssl.datasets.synthps_dataset import stale_synthps_root
    root = str(tmp_path / 'synthps')
    ensure_synthps_rendered(root, dict(TINY_SYNTHPS))
    # a config that sets only the seed reads a root of other sizes as it is
    assert stale_synthps_root(root, dict(seed=0)) is None
    assert stale_synthps_root(root, None) is None
    marker_path = osp.join(root, MARKER_FILE)
    marker = json.load(open(marker_path))
    marker['version'] = RENDERER_VERSION - 1
    json.dump(marker, open(marker_path, 'w'))
    assert ensure_synthps_rendered(root, dict(seed=0)) is True
    again = json.load(open(marker_path))['parameters']
    assert again['num_train_frames'] == TINY_SYNTHPS['num_train_frames']
