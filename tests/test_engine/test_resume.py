"""A run stopped mid-epoch and resumed ends where the uninterrupted run ends."""
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmssl.testing import render_tiny_synthps, tiny_ssl_config
from mmssl.utils import trust_checkpoints_on_resume


class Interrupted(Exception):
    pass


class StopAfterIter(Hook):
    """Stops the run after iteration ``at`` (after its checkpoint was saved)."""

    def __init__(self, at):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at:
            raise Interrupted


def make_config(root, work_dir):
    cfg = tiny_ssl_config(root, work_dir, max_epochs=2)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=2, by_epoch=False, max_keep_ckpts=-1)
    # validation is not what this test compares
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    return cfg


def final_state(runner):
    return {k: v.detach().clone() for k, v in runner.model.state_dict().items()}


@pytest.fixture(scope='module')
def interrupted_run(tmp_path_factory):
    """An uninterrupted 2-epoch run, and the same run stopped after 6 iterations."""
    trust_checkpoints_on_resume()
    tmp = tmp_path_factory.mktemp('resume')
    root = render_tiny_synthps(str(tmp / 'synthps'))
    full = Runner.from_cfg(make_config(root, str(tmp / 'full')))
    full.train()
    assert len(full.train_dataloader) == 4  # iterations per epoch
    # stop two iterations into the second epoch, after the pseudo labels of that
    # epoch were computed
    stopped = Runner.from_cfg(make_config(root, str(tmp / 'stopped')))
    stopped.register_hook(StopAfterIter(6), priority='LOWEST')
    with pytest.raises(Interrupted):
        stopped.train()
    return dict(root=root, tmp=tmp, full=full, expected=final_state(full),
                ckpt=str(tmp / 'stopped' / 'iter_6.pth'))


def resume(run, name, loop=None):
    cfg = make_config(run['root'], str(run['tmp'] / name))
    if loop is not None:
        cfg.train_cfg.type = loop
    cfg.resume = True
    cfg.load_from = run['ckpt']
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_mid_epoch_resume_is_exact(interrupted_run):
    resumed = resume(interrupted_run, 'resumed')
    assert resumed.iter == interrupted_run['full'].iter == 8
    got, expected = final_state(resumed), interrupted_run['expected']
    assert got.keys() == expected.keys()
    for key in ('memory.instance_feats', 'memory.exemplar_feats',
                'pseudo_labels.cluster_labels', 'pseudo_labels.multilabel_indptr',
                'pseudo_labels.multilabel_indices', 'pseudo_labels.epoch'):
        assert key in got
    # same float operations in the same order on one CPU: equal up to 1e-6
    for key, value in expected.items():
        if value.is_floating_point():
            assert torch.allclose(got[key], value, atol=1e-6, rtol=0), key
        else:
            assert torch.equal(got[key], value), key


def test_resume_without_skipping_would_differ(interrupted_run):
    """The comparison above can fail: replaying the whole epoch changes the banks."""
    replayed = resume(interrupted_run, 'replayed', loop='EpochBasedTrainLoop')
    expected = interrupted_run['expected']['memory.instance_feats']
    assert not torch.allclose(replayed.model.memory.instance_feats, expected,
                              atol=1e-6)
