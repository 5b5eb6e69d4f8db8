"""Evaluation: pure functional metrics and their MMEngine wrappers."""
from . import metrics  # noqa: F401
