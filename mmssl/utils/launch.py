"""Launching ``tools/train.py`` and ``tools/test.py``: their common command-line
arguments and runner, and work-arounds of MMEngine 0.10.x.

* ``launcher='pytorch'`` on a CPU-only torch fails in MMEngine's ``init_dist``
  (it calls ``torch.cuda.set_device``). Initialising the gloo process group first
  and wrapping the model in DDP with ``device_ids=None`` makes CPU DDP work.
* MMEngine 0.10.7 resumes with ``torch.load`` defaults; since torch 2.6 that means
  ``weights_only=True`` and resuming a checkpoint with optimizer/message-hub state
  fails. MMEngine's own checkpoints are trusted files of this run.
"""
import argparse
import os
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction


def add_launch_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local_rank``, as MMDetection's
    tools take them."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launch_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; ``LOCAL_RANK`` defaults to ``--local_rank``."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_runner(cfg: Config):
    """MMEngine's ``Runner`` of ``cfg``, or the runner its ``runner_type`` names."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def load_tool_config(config: str, cfg_options: Optional[dict], launcher: str,
                     work_dir: Optional[str]) -> Config:
    """The config of ``tools/train.py`` / ``tools/test.py``: loaded, overridden by
    ``--cfg-options``, made launchable (:func:`prepare_distributed_launch`), with
    its work dir (``--work-dir``, the config's, or ``./work_dirs/<config name>``).
    """
    cfg = Config.fromfile(config)
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    prepare_distributed_launch(cfg, launcher)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = os.path.join('./work_dirs',
                                    os.path.splitext(os.path.basename(config))[0])
    return cfg


def prepare_distributed_launch(cfg: Config, launcher: str) -> None:
    """Make ``cfg`` launchable with ``launcher`` on CPU as well as on GPUs.

    On a machine without CUDA and with ``launcher='pytorch'`` (torchrun), the gloo
    process group is initialised here from torchrun's environment variables, and
    the model wrapper is told not to pin a device. On GPUs nothing changes
    (MMEngine initialises NCCL itself).

    Args:
        cfg: The config; modified in place.
        launcher: ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
    """
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher == 'slurm':
        # slurm sets SLURM_* variables; torchrun-style ones are derived from them
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
        os.environ.setdefault('MASTER_PORT', '29500')
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.env_cfg = cfg.get('env_cfg', {})
    cfg.env_cfg['dist_cfg'] = dict(backend='gloo')
    wrapper = dict(cfg.get('model_wrapper_cfg') or
                   dict(type='MMDistributedDataParallel'))
    wrapper['device_ids'] = None
    # as MMEngine does on GPUs: the memory banks are kept equal by gathering,
    # so DDP need not copy every buffer from rank 0 before each forward
    wrapper.setdefault('broadcast_buffers', False)
    cfg.model_wrapper_cfg = wrapper


def trust_checkpoints_on_resume() -> None:
    """Let ``torch.load`` read MMEngine's full training checkpoints (torch >= 2.6),
    for ``--resume`` and for ``load_from`` (``tools/test.py``).

    Sets ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` unless the user set it; only call
    this for checkpoints written by your own runs.
    """
    os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
