"""Datasets: PRW, CUHK-SYSU, SynthPS readers and their transforms."""
from . import transforms  # noqa: F401
