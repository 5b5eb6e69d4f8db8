"""Set torch's intra-op thread count for the run."""
import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.runner import Runner

from ...utils.onednn_cache import primitive_cache_capacity


@HOOKS.register_module()
class TorchThreadsHook(Hook):
    """Run the model with ``num_threads`` intra-op threads (CPU training).

    On a small CPU machine whose cores are shared with data workers or other jobs,
    two OpenMP threads that wait for each other at every operator can make a step
    several times slower than one thread (measured here: 4.0 s against 1.2 s per
    SynthPS step with two busy neighbours); the data workers use the other cores.

    Args:
        num_threads: Threads for ``torch.set_num_threads``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, num_threads: int = 1) -> None:
        if num_threads < 1:
            raise ValueError(f'num_threads must be >= 1, got {num_threads}')
        self.num_threads = num_threads

    def before_run(self, runner: Runner) -> None:
        """Apply the thread count before anything runs."""
        torch.set_num_threads(self.num_threads)
        runner.logger.info(f'torch intra-op threads: {self.num_threads}')
        capacity = primitive_cache_capacity()
        shown = 'oneDNN default (1024)' if capacity is None else capacity
        runner.logger.info(f'oneDNN primitive cache capacity: {shown} '
                           '(mmssl.utils.onednn_cache)')
