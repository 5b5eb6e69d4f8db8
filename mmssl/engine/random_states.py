"""The states of Python's, numpy's and torch's random generators, read and restored.

:class:`~mmssl.engine.hooks.RandomStateHook` writes them into checkpoints;
:class:`~mmssl.engine.runner.ResumableEpochBasedTrainLoop` restores them where a
resumed epoch continues.
"""
import random
from typing import Any, Dict

import numpy as np
import torch


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
