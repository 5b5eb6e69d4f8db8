"""Run a module without letting batch norms update their running statistics."""
import contextlib
from typing import Iterator

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


@contextlib.contextmanager
def frozen_bn_statistics(module: nn.Module) -> Iterator[None]:
    """Batch norms normalise with batch statistics but keep their running ones.

    The exemplar branch runs masked person crops (black background, fixed aspect)
    through the backbone that also sees the scenes. Were the crops to update the
    running mean and variance, the statistics used at test time, on scenes only,
    would be those of a mixture of scenes and crops. Inside this context every
    batch norm in training mode gets momentum 0, so its running statistics stay as
    the scenes left them; gradients are unaffected.
    """
    changed = []
    for m in module.modules():
        if isinstance(m, _BatchNorm) and m.training and m.track_running_stats:
            changed.append((m, m.momentum))
            m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in changed:
            m.momentum = momentum
