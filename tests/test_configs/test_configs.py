"""Every shipped config parses, names registered components, and the models build."""
import glob
import os.path as osp

import pytest
from mmdet.registry import DATASETS, HOOKS, LOOPS, METRICS, MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmssl  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p and 'mixing' not in p)


def test_configs_found():
    names = {osp.relpath(p, osp.join(REPO, 'configs')) for p in CONFIGS}
    assert {'ssl_r18c16-c4_6e_synthps.py', 'ssl_r50-c4_26e_prw.py', 'ssl_r50-c4_26e_cuhk-sysu.py',
            'faster-rcnn_r18c16-c4_6e_synthps.py'} <= names
    assert len([n for n in names if n.startswith('ablations')]) == 18


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_uses_registered_components(path):
    init_default_scope('mmdet')
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdet'
    assert 'mmssl' in cfg.custom_imports['imports']
    assert MODELS.get(cfg.model.type) is not None
    assert LOOPS.get(cfg.train_cfg.type) is not None
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert DATASETS.get(cfg[loader].dataset.type) is not None
    assert METRICS.get(cfg.test_evaluator.type) is not None
    for hook in cfg.get('custom_hooks', []):
        assert HOOKS.get(hook['type']) is not None
    if cfg.model.get('loss_dml') is not None or cfg.model.get('loss_cluster'):
        hooks = [h['type'] for h in cfg.custom_hooks]
        assert hooks == ['MemoryBankHook', 'PseudoLabelHook']


@pytest.mark.parametrize('name', ['ssl_r18c16-c4_6e_synthps.py', 'faster-rcnn_r18c16-c4_6e_synthps.py',
                                  'ssl_r50-c4_26e_prw.py'])
def test_models_build(name):
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    model = MODELS.build(cfg.model)
    if name == 'ssl_r50-c4_26e_prw.py':
        # paper settings (Sec. 4.2; docs/configs.md lists them with their sources)
        assert cfg.model.backbone.depth == 50
        assert cfg.model.exemplar_branch.scales == [(112, 48), (224, 96),
                                                    (448, 192)]
        assert cfg.optim_wrapper.optimizer.lr == 0.001
        assert cfg.train_cfg.max_epochs == 26
        assert cfg.param_scheduler[1].milestones == [16, 22]
        assert model.roi_head.embedding_head.embed_dim == 256
    if name == 'faster-rcnn_r18c16-c4_6e_synthps.py':
        assert not model.roi_head.with_reid
        assert not model.with_exemplar_branch
