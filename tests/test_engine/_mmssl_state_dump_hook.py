"""A hook that writes each rank's memory banks and pseudo labels to disk.

Imported by the training processes of test_distributed.py through the config's
``custom_imports`` (this folder is on their ``PYTHONPATH``); pytest does not
collect it."""
import os
import os.path as osp

import torch
from mmdet.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmssl.engine.hooks import unwrap_model


@HOOKS.register_module()
class DumpTrainingStateHook(Hook):
    """After training, save ``memory.*`` and ``pseudo_labels.*`` buffers of this rank
    to ``<out_dir>/rank<r>.pth``, so a test can compare the ranks of a DDP run.

    Args:
        out_dir: Folder for the files.
    """

    priority = 'LOWEST'

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def after_train(self, runner) -> None:
        """Write this rank's banks and labels."""
        model = unwrap_model(runner)
        state = {
            k: v.detach().cpu().clone()
            for k, v in model.state_dict().items()
            if k.startswith(('memory.', 'pseudo_labels.'))
        }
        os.makedirs(self.out_dir, exist_ok=True)
        torch.save(state, osp.join(self.out_dir, f'rank{get_rank()}.pth'))
