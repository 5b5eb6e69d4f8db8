"""Which memory format to run the exemplar crops through the backbone in."""
import torch
from torch import nn

#: oneDNN's x64 input-channel block for float32 (16 with AVX-512, 8 with AVX2).
ONEDNN_CHANNEL_BLOCK = 16


def crop_memory_format(module: nn.Module) -> torch.memory_format:
    """``torch.channels_last`` where it is safe for ``module``, else contiguous.

    Channels-last makes the backbone's convolutions on the crops 10-25% faster on
    CPU (docs/benchmarks.md, "Model speed"). But oneDNN computes the weight gradient
    of a strided 1x1 convolution in that format wrongly, writing past its buffer,
    when the convolution has fewer input channels than its channel block
    (uxlfoundation/oneDNN issue 6035, open; measured here with torch 2.13: heap
    corruption for 3-12 input channels, none from 16 on). Modules with such a
    convolution (e.g. an 8-channel test backbone) stay contiguous.
    """
    for m in module.modules():
        if (isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
                and max(m.stride) > 1 and m.in_channels < ONEDNN_CHANNEL_BLOCK):
            return torch.contiguous_format
    return torch.channels_last
