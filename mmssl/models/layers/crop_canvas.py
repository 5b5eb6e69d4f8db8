"""Run many small crops through a convolutional backbone as one image.

The exemplar branch (paper Sec. 3.2) runs every person's original-size crop through
the backbone, each padded to a multiple of 32. Run one by one, or in small batches
of equal size, these tiny images make the convolutions slow (per-call overhead and
feature maps a few pixels wide). Here the crops are pasted side by side into one
canvas, ``align`` pixels apart, and every zero-padded convolution or max pooling
of the backbone sees, around each crop, exactly what it would see were the crop
alone: before such a layer, everything outside the crops is set to the padding
value (0, or ``-inf`` for max pooling). Each crop's output feature map is then the
one it would have alone (up to float rounding).

This holds for backbones whose layers see pixels only through zero-padded
convolutions and poolings, with per-pixel normalisation (batch norms that use
their running statistics); :func:`canvas_compatible` checks it.
"""
import contextlib
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

#: Leaf modules whose output at a pixel depends on a zero-padded neighbourhood
#: (handled by the masks) or on that pixel alone.
_PIXELWISE = (nn.ReLU, nn.Identity)


def canvas_compatible(module: nn.Module) -> bool:
    """Whether :class:`CropCanvas` reproduces ``module``'s per-crop outputs.

    True when every leaf module is a zero-padded ``Conv2d``, a ``MaxPool2d``
    (floor mode), a batch norm that uses its running statistics (eval mode,
    e.g. ``norm_eval=True``), a ``ReLU`` or an ``Identity``. Group norm, batch
    norms in training mode or any other layer make a crop's features depend on
    the whole canvas.
    """
    for m in module.modules():
        if next(m.children(), None) is not None:
            continue  # a container: its leaves are checked
        if isinstance(m, nn.Conv2d):
            if m.padding_mode != 'zeros' or isinstance(m.padding, str):
                return False
        elif isinstance(m, nn.MaxPool2d):
            if m.ceil_mode:
                return False
        elif isinstance(m, _BatchNorm):
            if m.training and m.track_running_stats:
                return False
        elif not isinstance(m, _PIXELWISE):
            return False
    return True


def _ceil_to(value: int, divisor: int) -> int:
    return -(-value // divisor) * divisor


class CropCanvas:
    """Shelf-packed layout of crops in one canvas, ``align`` pixels apart.

    Args:
        sizes: ``(height, width)`` of each crop as the backbone should see it
            (the padded size, e.g. a multiple of 32 for original-size crops).
        align: Offsets and gaps are multiples of this; it must be a multiple of
            the backbone's output stride, and every padded layer at input stride
            ``s`` must have ``padding * s <= align`` (checked while running).
        width: Least canvas width in pixels (more when a crop is wider).
        height_step: The canvas height is rounded up to a multiple of this, so
            that few canvas shapes occur (each new shape costs the convolution
            library a new kernel set).
    """

    def __init__(self, sizes: Sequence[Tuple[int, int]], align: int = 16,
                 width: int = 192, height_step: int = 64) -> None:
        if not sizes:
            raise ValueError('CropCanvas needs at least one crop')
        self.sizes = [(int(h), int(w)) for h, w in sizes]
        self.align = align
        foot = [(_ceil_to(h, align) + align, _ceil_to(w, align) + align)
                for h, w in self.sizes]
        width = max(max(fw for _, fw in foot), _ceil_to(width, align))
        offsets = [(0, 0)] * len(foot)
        x = y = shelf = 0
        for i in sorted(range(len(foot)), key=lambda i: -foot[i][0]):
            fh, fw = foot[i]
            if x + fw > width:
                x, y, shelf = 0, y + shelf, 0
            offsets[i] = (y, x)
            x += fw
            shelf = max(shelf, fh)
        self.offsets = offsets
        self.height = _ceil_to(y + shelf, _ceil_to(height_step, align))
        self.width = width
        self._inside: Dict[tuple, Tensor] = {}
        self._pasted: Optional[Tensor] = None

    def paste(self, crops: Sequence[Tensor], background: Tensor,
              memory_format: torch.memory_format = torch.contiguous_format
              ) -> Tensor:
        """The ``(1, 3, H, W)`` canvas: each crop at its offset, the rest of its
        padded size ``background``, zeros (the convolutions' padding) around."""
        first = crops[0]
        canvas = first.new_zeros((1, first.shape[0], self.height, self.width))
        fill = background.view(-1, 1, 1).to(first)
        for crop, (h, w), (y, x) in zip(crops, self.sizes, self.offsets):
            canvas[0, :, y:y + h, x:x + w] = fill
            canvas[0, :, y:y + crop.shape[1], x:x + crop.shape[2]] = crop
        self._pasted = canvas.contiguous(memory_format=memory_format)
        return self._pasted

    def _stride(self, height: int, width: int) -> int:
        stride = self.height // height
        if (stride * height != self.height or stride * width != self.width
                or self.align % stride):
            raise RuntimeError(
                f'CropCanvas: a {height} x {width} feature map of the '
                f'{self.height} x {self.width} canvas is not at a stride that '
                f'divides align={self.align}')
        return stride

    def inside(self, like: Tensor) -> Tensor:
        """``(1, 1, h, w)`` mask, 1 on the crops and 0 off them, at the resolution
        (and in the dtype) of the ``(N, C, h, w)`` feature map ``like``."""
        height, width = like.shape[-2:]
        key = (height, width, like.dtype, like.device)
        if key not in self._inside:
            stride = self._stride(height, width)
            mask = like.new_zeros((1, 1, height, width))
            for (h, w), (y, x) in zip(self.sizes, self.offsets):
                mask[..., y // stride:y // stride + -(-h // stride),
                     x // stride:x // stride + -(-w // stride)] = 1
            self._inside[key] = mask
        return self._inside[key]

    def cut(self, feats: Tensor) -> List[Tensor]:
        """Each crop's ``(C, ceil(h / s), ceil(w / s))`` map from the canvas's
        ``(1, C, H / s, W / s)`` feature map."""
        stride = self._stride(*feats.shape[-2:])
        return [
            feats[0, :, y // stride:y // stride + -(-h // stride),
                  x // stride:x // stride + -(-w // stride)]
            for (h, w), (y, x) in zip(self.sizes, self.offsets)
        ]

    @contextlib.contextmanager
    def separating(self, module: nn.Module) -> Iterator[None]:
        """Inside, ``module``'s padded convolutions and max poolings see the
        padding value everywhere off the crops (hooks on their inputs)."""
        handles = []
        for m in module.modules():
            if isinstance(m, nn.Conv2d) and any(p > 0 for p in m.padding):
                handles.append(m.register_forward_pre_hook(
                    self._hook(m.padding, pool=False)))
            elif isinstance(m, nn.MaxPool2d) and _pair(m.padding) != (0, 0):
                handles.append(m.register_forward_pre_hook(
                    self._hook(_pair(m.padding), pool=True)))
                handles.append(m.register_forward_hook(self._zero_outputs))
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def _hook(self, padding: Tuple[int, int], pool: bool):

        def fill_outside(mod: nn.Module, args: tuple) -> Optional[tuple]:
            x = args[0]
            if x is self._pasted:
                return None  # the pasted canvas is zero off the crops already
            stride = self._stride(*x.shape[-2:])
            if max(padding) * stride > self.align:
                raise RuntimeError(
                    f'CropCanvas: {type(mod).__name__} pads by {padding} at '
                    f'stride {stride}, more than the gap of {self.align} pixels '
                    f'between crops')
            inside = self.inside(x)
            if pool:
                # max pooling pads with -inf: off the crops, the lowest float
                lowest = torch.finfo(x.dtype).min
                x = torch.addcmul((1 - inside) * lowest, x, inside)
            else:
                x = x * inside  # a product, cheaper than masked_fill on CPU
            return (x, ) + tuple(args[1:])

        return fill_outside

    def _zero_outputs(self, mod: nn.Module, args: tuple, out: Tensor) -> Tensor:
        # nothing of the -inf stand-in leaves a max pooling
        return out * self.inside(out)


def canvas_feature_maps(
        backbone: nn.Module,
        crops: Sequence[Tensor],
        sizes: Sequence[Tuple[int, int]],
        background: Tensor,
        align: int,
        memory_format: torch.memory_format = torch.contiguous_format
) -> List[Tensor]:
    """Each crop's map of the backbone's first output, from one canvas
    (``sizes``: the ``(h, w)`` each crop is padded to with ``background``;
    ``align``: the backbone's output stride)."""
    canvas = CropCanvas(sizes, align=align)
    image = canvas.paste(crops, background, memory_format)
    with canvas.separating(backbone):
        return canvas.cut(backbone(image)[0])


def _pair(value) -> Tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)
