"""Save the random number generators' states with each checkpoint."""
import random
from typing import Any, Dict

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.runner import Runner


def get_random_states() -> Dict[str, Any]:
    """States of Python's, numpy's and torch's (CPU and CUDA) generators."""
    states = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states: Dict[str, Any]) -> None:
    """Restore what :func:`get_random_states` returned."""
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(torch.as_tensor(states['torch'], dtype=torch.uint8))
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Put the random states into checkpoints and restore them on resume.

    MMEngine checkpoints carry weights, optimiser, schedulers and (with mmssl) the
    memory banks and pseudo labels, but not the random generators, so a resumed run
    draws other proposal samples and flips than the uninterrupted one would. The
    states are saved per rank. On resume they are handed to
    :class:`ResumableEpochBasedTrainLoop`, which applies them after skipping the
    batches already trained (drawing those batches uses random numbers too); with
    another loop they are applied at once.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Store this rank's random states in the checkpoint's meta."""
        checkpoint.setdefault('meta', {})['random_states'] = get_random_states()

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Restore the states (through the loop when it is resumable)."""
        states = checkpoint.get('meta', {}).get('random_states')
        if states is None:
            return
        loop = getattr(runner, '_train_loop', None)
        if hasattr(loop, 'pending_random_states'):
            loop.pending_random_states = states
        else:
            set_random_states(states)
