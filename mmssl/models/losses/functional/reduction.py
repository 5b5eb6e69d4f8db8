"""The reductions the SSL losses offer over their per-sample terms.

Plain torch; no mmdet import.
"""
from torch import Tensor

REDUCTIONS = ('mean', 'sum', 'none')


def check_reduction(reduction: str, caller: str) -> None:
    """Raise ``ValueError`` (naming ``caller``) unless ``reduction`` is one of
    :data:`REDUCTIONS`."""
    if reduction not in REDUCTIONS:
        raise ValueError(f'{caller}: reduction must be one of {REDUCTIONS}, got '
                         f'{reduction!r}')


def reduce_per_sample(per_sample: Tensor, reduction: str) -> Tensor:
    """``per_sample`` as it is (``'none'``), summed, or averaged (``'mean'``)."""
    if reduction == 'none':
        return per_sample
    if reduction == 'sum':
        return per_sample.sum()
    return per_sample.mean()
