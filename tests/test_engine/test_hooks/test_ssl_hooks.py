"""MemoryBankHook and PseudoLabelHook on a tiny SynthPS run."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from mmssl.testing import render_tiny_synthps, tiny_ssl_config
from mmssl.utils import config_hooks


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = render_tiny_synthps(str(tmp_path_factory.mktemp('synthps')))
    work_dir = str(tmp_path_factory.mktemp('work'))
    cfg = tiny_ssl_config(root, work_dir, max_epochs=2)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner, work_dir


def test_memory_filled_and_labels_stored(trained):
    runner, _ = trained
    model = runner.model
    dataset = runner.train_dataloader.dataset
    num = dataset.num_instances
    assert model.memory.num_samples == num > 0
    assert bool(model.memory.initialised)
    norms = model.memory.instance_feats.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-4)
    store = model.pseudo_labels
    assert store.has_labels and int(store.epoch) == 1
    assert store.cluster_labels.shape == (num, )
    assert (store.cluster_labels >= 0).all()
    indptr = store.multilabel_indptr
    assert indptr.shape == (num + 1, ) and int(indptr[-1]) == len(
        store.multilabel_indices)
    # every sample is its own positive
    for row in range(num):
        assert row in store.multilabel_indices[indptr[row]:indptr[row + 1]]


def test_checkpoint_carries_banks_and_labels(trained):
    runner, work_dir = trained
    ckpt = torch.load(osp.join(work_dir, 'epoch_2.pth'), map_location='cpu',
                      weights_only=False)
    state = ckpt['state_dict']
    model = runner.model
    assert torch.equal(state['memory.instance_feats'], model.memory.instance_feats)
    assert torch.equal(state['memory.exemplar_feats'], model.memory.exemplar_feats)
    assert torch.equal(state['pseudo_labels.cluster_labels'],
                       model.pseudo_labels.cluster_labels)
    assert torch.equal(state['pseudo_labels.multilabel_indices'],
                       model.pseudo_labels.multilabel_indices)
    assert 'pseudo_label_hook' in ckpt['meta']


def test_pseudo_label_log_line(trained):
    runner, work_dir = trained
    logs = [
        line for path in __import__('glob').glob(
            osp.join(work_dir, '*', '*.log')) for line in open(path)
    ]
    lines = [line for line in logs if 'pseudo labels {' in line]
    assert lines, 'PseudoLabelHook logged nothing'
    import json
    stats = json.loads(lines[-1].split('pseudo labels ', 1)[1])
    for key in ('clusters', 'singletons', 'mean_positives', 'threshold',
                'seconds', 'cluster_precision', 'multilabel_recall'):
        assert key in stats
    # Eq. 9 at epoch 1 with the config's t_s, alpha, beta
    label_cfg = config_hooks(runner.cfg, 'PseudoLabelHook')[0]['label_cfg']
    assert stats['threshold'] == pytest.approx(
        label_cfg['t_s'] + label_cfg['alpha'] * np.exp(label_cfg['beta'] * 1))
