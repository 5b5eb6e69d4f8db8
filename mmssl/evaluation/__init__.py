"""Evaluation: pure functional metrics, their MMEngine wrappers, and the evaluation of
saved arrays (docs/evaluation.md)."""
from . import metrics  # noqa: F401
from .saved_arrays import evaluate_arrays, load_saved_arrays

__all__ = ['evaluate_arrays', 'load_saved_arrays']
