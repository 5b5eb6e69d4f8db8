"""With a seed and deterministic settings, two CPU runs give the same results."""
import torch
from mmengine.runner import Runner

from mmssl.testing import render_tiny_synthps, tiny_ssl_config


def run_once(root, work_dir):
    cfg = tiny_ssl_config(root, work_dir, max_epochs=2, seed=0)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    state = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}
    return metrics, state


def test_two_seeded_runs_agree(tmp_path):
    root = render_tiny_synthps(str(tmp_path / 'synthps'))
    metrics_a, state_a = run_once(root, str(tmp_path / 'a'))
    metrics_b, state_b = run_once(root, str(tmp_path / 'b'))
    assert 'search/mAP' in metrics_a and 'search/det_ap' in metrics_a
    assert metrics_a.keys() == metrics_b.keys()
    for key, value in metrics_a.items():
        assert value == metrics_b[key] or (value != value and
                                           metrics_b[key] != metrics_b[key]), key
    for key, value in state_a.items():
        assert torch.equal(value, state_b[key]), key
