"""Hooks: memory-bank initialisation, per-epoch pseudo labels, random states, the
loss guard; ``ssl_model`` declares what the SSL hooks need of a model."""
from .invalid_loss_hook import InvalidLossHook  # noqa: F401
from .memory_bank_hook import MemoryBankHook
from .pseudo_label_hook import PseudoLabelHook
from .torch_threads_hook import TorchThreadsHook
from .random_state_hook import RandomStateHook
from .ssl_model import (SSL_DATASET_INTERFACE, SSL_MODEL_INTERFACE,
                        check_ssl_dataset, check_ssl_model, unwrap_model)

__all__ = [
    'InvalidLossHook', 'MemoryBankHook', 'PseudoLabelHook', 'RandomStateHook',
    'TorchThreadsHook', 'unwrap_model', 'SSL_MODEL_INTERFACE', 'SSL_DATASET_INTERFACE', 'check_ssl_model',
    'check_ssl_dataset'
]
