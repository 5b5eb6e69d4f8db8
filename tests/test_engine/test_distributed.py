"""Two gloo processes (tools/dist_train.sh) hold the same banks and labels as each
other and as a one-process run over the same samples."""
import os
import os.path as osp
import socket
import subprocess
import sys

import torch

from mmssl.testing import render_tiny_synthps, tiny_ssl_config
from mmssl.utils import config_hooks

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Holds _mmssl_state_dump_hook.py, which the training processes import.
HOOK_DIR = osp.dirname(osp.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def write_config(root, tmp):
    """Tiny SSL config whose features do not depend on the batch: frozen batch
    norms, embedding statistics that neither move nor get calibrated (two ranks
    see other batches than one process), lr 0 and no flips, so one process with
    batch 4 sees what two ranks with batch 2 see together."""
    cfg = tiny_ssl_config(root, str(tmp / 'unused'), max_epochs=2)
    model = cfg.model
    model.backbone.norm_eval = True
    model.roi_head.stage_shared_heads.norm_eval = True
    model.roi_head.embedding_head.norm_momentum = 0.0
    for hook in config_hooks(cfg, 'MemoryBankHook'):
        hook['calibration_images'] = 0
    cfg.optim_wrapper.optimizer.lr = 0.0
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_dataloader.batch_size = 2
    # no random flips: the two runs draw different random numbers
    cfg.train_dataloader.dataset.pipeline = [
        step for step in cfg.train_dataloader.dataset.pipeline
        if step['type'] != 'RandomFlip'
    ]
    cfg.custom_imports = dict(imports=['mmssl', '_mmssl_state_dump_hook'],
                              allow_failed_imports=False)
    cfg.custom_hooks.append(
        dict(type='DumpTrainingStateHook', out_dir=str(tmp / 'dump_PLACEHOLDER')))
    path = str(tmp / 'cfg.py')
    cfg.dump(path)
    return path


def run(cmd, env):
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def load(tmp, name, rank):
    return torch.load(str(tmp / name / f'rank{rank}.pth'), weights_only=True)


def test_two_gloo_ranks_match_each_other_and_one_process(tmp_path):
    root = render_tiny_synthps(str(tmp_path / 'synthps'))
    cfg = write_config(root, tmp_path)
    python_path = os.pathsep.join(
        p for p in (HOOK_DIR, os.environ.get('PYTHONPATH')) if p)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
               OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=python_path)
    run(['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir',
         str(tmp_path / 'ddp'), '--cfg-options',
         f'custom_hooks.2.out_dir={tmp_path / "ddp_dump"}'], env)
    run([sys.executable, 'tools/train.py', cfg, '--work-dir',
         str(tmp_path / 'single'), '--cfg-options',
         'train_dataloader.batch_size=4',
         f'custom_hooks.2.out_dir={tmp_path / "single_dump"}'], env)

    rank0, rank1 = load(tmp_path, 'ddp_dump', 0), load(tmp_path, 'ddp_dump', 1)
    single = load(tmp_path, 'single_dump', 0)
    assert rank0.keys() == rank1.keys() == single.keys()
    assert rank0['memory.instance_feats'].shape[0] == 30  # every train box
    assert bool(rank0['memory.initialised'])
    assert int(rank0['pseudo_labels.epoch']) == 1
    for key in rank0:
        # the ranks apply the same gathered updates in the same order: identical
        assert torch.equal(rank0[key], rank1[key]), key
        # one process computes the same features in other batches: float sums
        # may differ in the last bits, hence 1e-5
        if rank0[key].is_floating_point():
            assert torch.allclose(rank0[key], single[key], atol=1e-5), key
        else:
            assert torch.equal(rank0[key], single[key]), key
