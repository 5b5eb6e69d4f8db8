"""Run a network's frozen batch norms folded into the convolutions before them.

A batch norm that normalises with its running statistics is a per-channel affine
map, ``y = x * s + (beta - mu * s)`` with ``s = gamma / sqrt(var + eps)``; after a
convolution ``conv(x, w, b)`` the pair is one convolution,
``conv(x, w * s, (b - mu) * s + beta)``. The exemplar branch (paper Sec. 3.2) runs
the backbone four times per step over small crop batches, where each batch norm's
forward and backward cost as much as a small convolution's; folded once per step,
the passes skip them (docs/benchmarks.md, "Frozen batch norms folded in the
exemplar passes"). The function computed is the same; the float rounding differs.
"""
import contextlib
from typing import Iterator, List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


def _foldable(conv: nn.Module, norm: nn.Module) -> bool:
    """A plain ``Conv2d`` (no weight standardisation or other forward of its own)
    followed by a batch norm that uses its running statistics."""
    return (type(conv).forward is nn.Conv2d.forward
            and isinstance(norm, _BatchNorm)
            and type(norm).forward in (nn.BatchNorm2d.forward,
                                       nn.SyncBatchNorm.forward)
            and not norm.training and norm.track_running_stats
            and norm.running_mean is not None
            and norm.num_features == conv.out_channels)


def conv_norm_pairs(module: nn.Module) -> List[Tuple[nn.Conv2d, _BatchNorm]]:
    """The ``(conv, batch norm)`` pairs of ``module`` where the norm takes the
    convolution's output and nothing else does, found by MMDetection's layout:

    * a module with children ``conv{i}`` and an attribute ``norm{i}_name``
      (mmdet's ``ResNet`` stem, ``BasicBlock``, ``Bottleneck``), whose forward
      applies ``norm{i}`` right after ``conv{i}``;
    * a ``Conv2d`` directly followed by a batch norm in an ``nn.Sequential``
      (residual downsampling, deep stems).

    Only pairs that can be folded (:func:`_foldable`) are returned, so call it
    with the module in the mode it will run in. Blocks that recompute their
    forward in the backward (``with_cp``) are left as they are.
    """
    checkpointed = {
        id(m) for parent in module.modules()
        if getattr(parent, 'with_cp', False) for m in parent.modules()
    }
    pairs = []
    for parent in module.modules():
        if id(parent) in checkpointed:
            continue
        children = dict(parent.named_children())
        if isinstance(parent, nn.Sequential):
            layers = list(parent)
            pairs.extend(zip(layers[:-1], layers[1:]))
        for i in range(1, 4):
            name = getattr(parent, f'norm{i}_name', None)
            if isinstance(name, str) and f'conv{i}' in children and name in children:
                pairs.append((children[f'conv{i}'], children[name]))
    seen, unique = set(), []
    for conv, norm in pairs:
        if _foldable(conv, norm) and id(norm) not in seen:
            seen.add(id(norm))
            unique.append((conv, norm))
    return unique


def folded_conv_params(conv: nn.Conv2d, norm: _BatchNorm) -> Tuple[Tensor, Tensor]:
    """Weight and bias of ``norm(conv(x))`` as one convolution (differentiable in
    the convolution's and the norm's parameters)."""
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -norm.running_mean * scale
    if conv.bias is not None:
        shift = shift + conv.bias * scale
    if norm.bias is not None:
        shift = shift + norm.bias
    return conv.weight * scale.view(-1, 1, 1, 1), shift


@contextlib.contextmanager
def folded_batch_norms(module: nn.Module) -> Iterator[int]:
    """Inside, every foldable ``conv -> batch norm`` pair of ``module``
    (:func:`conv_norm_pairs`) runs as one convolution, the norm as an identity.

    The folded weights are computed once, on entry, with autograd: gradients
    reach the convolution's weight and the norm's affine parameters as they
    would through the pair, and all passes inside share them. So parameters
    must not change inside (no optimizer step), and batch norms must stay in
    the mode they had on entry. Forward hooks of the modules still run.

    Yields:
        The number of pairs folded.
    """
    pairs = conv_norm_pairs(module)
    try:
        for conv, norm in pairs:
            weight, bias = folded_conv_params(conv, norm)

            def forward(x: Tensor, conv=conv, weight=weight, bias=bias) -> Tensor:
                if conv.padding_mode != 'zeros':
                    return conv._conv_forward(x, weight, bias)
                return F.conv2d(x, weight, bias, conv.stride, conv.padding,
                                conv.dilation, conv.groups)

            conv.forward = forward
            norm.forward = _identity
        yield len(pairs)
    finally:
        for conv, norm in pairs:
            conv.__dict__.pop('forward', None)
            norm.__dict__.pop('forward', None)


def _identity(x: Tensor) -> Tensor:
    return x
