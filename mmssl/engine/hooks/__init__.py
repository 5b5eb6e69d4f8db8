"""Hooks: memory-bank initialisation and per-epoch pseudo labels."""
from .memory_bank_hook import MemoryBankHook, unwrap_model
from .pseudo_label_hook import PseudoLabelHook

__all__ = ['MemoryBankHook', 'PseudoLabelHook', 'unwrap_model']
