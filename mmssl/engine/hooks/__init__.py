"""Hooks: memory-bank initialisation, per-epoch pseudo labels, random states."""
from .invalid_loss_hook import InvalidLossHook  # noqa: F401
from .memory_bank_hook import MemoryBankHook, unwrap_model
from .pseudo_label_hook import PseudoLabelHook
from .torch_threads_hook import TorchThreadsHook
from .random_state_hook import (RandomStateHook, get_random_states,
                                set_random_states)

__all__ = [
    'InvalidLossHook', 'MemoryBankHook', 'PseudoLabelHook', 'RandomStateHook',
    'TorchThreadsHook', 'unwrap_model',
    'get_random_states', 'set_random_states'
]
