"""RoIAlign's backward on the CPU, bit for bit mmcv's, with the sampling positions
computed once per RoI instead of once per channel.

mmcv's CPU ``roi_align_backward`` recomputes every sampling position and bilinear
weight for each channel; on the SynthPS training step it took about 29 ms of the
plain step's ~210 (docs/benchmarks.md, "RoIAlign's CPU backward, bit for bit").
:func:`roi_align_input_grad` computes the positions and weights once per RoI and
bin, and adds the contributions into the input gradient in mmcv's order (RoI, bin
row, bin column, sample row, sample column, corner), with mmcv's float32
expressions, so the gradient is the same to the last bit; the tests compare it with
mmcv's. :class:`RoIAlignFastBackward` is mmcv's ``RoIAlign`` with this backward on
CPU tensors (the forward, and everything on a GPU, stay mmcv's).
"""
from typing import Tuple

import torch
from mmcv.ops import RoIAlign, roi_align
from torch import Tensor

#: Bytes of contributions (``samples x 4 corners x channels``) added per chunk:
#: small enough to stay in the cache and to be reused from the heap, chunk after
#: chunk (96 RoIs on a 64-channel map: 8-11 ms with 32 MiB chunks, whose buffers
#: came as fresh pages each time, 4.6-4.8 ms with 4 MiB; docs/benchmarks.md).
CHUNK_BYTES = 4 * 2**20


def _sampling_grids(rois: Tensor, pooled_h: int, pooled_w: int,
                    spatial_scale: float, sampling_ratio: int, aligned: bool,
                    dtype: torch.dtype) -> Tuple[Tensor, ...]:
    """Per RoI: ``start_h, start_w, bin_h, bin_w`` (in ``dtype``) and the sample
    grid ``grid_h, grid_w`` of each bin, with mmcv's ``ROIAlignBackward``
    expressions."""
    offset = 0.5 if aligned else 0.0
    scale = torch.tensor(spatial_scale, dtype=dtype, device=rois.device)
    start_w = rois[:, 1] * scale - offset
    start_h = rois[:, 2] * scale - offset
    roi_w = (rois[:, 3] * scale - offset) - start_w
    roi_h = (rois[:, 4] * scale - offset) - start_h
    if not aligned:  # mmcv's backward-compatible minimum size
        roi_w = roi_w.clamp(min=1.0)
        roi_h = roi_h.clamp(min=1.0)
    if sampling_ratio > 0:
        grid_h = torch.full((len(rois), ), sampling_ratio, dtype=torch.long,
                            device=rois.device)
        grid_w = grid_h
    else:
        grid_h = torch.ceil(roi_h / pooled_h).long()
        grid_w = torch.ceil(roi_w / pooled_w).long()
    return (start_h, start_w, roi_h / pooled_h, roi_w / pooled_w, grid_h,
            grid_w)


def _sample_grads(grad_out: Tensor, rois: Tensor, grids: Tuple[Tensor, ...],
                  height: int, width: int) -> Tuple[Tensor, Tensor]:
    """Destinations (flat ``b * H * W + y * W + x``) and values ``(K, C)`` of the
    bilinear contributions of ``rois`` (their :func:`_sampling_grids`), in
    mmcv's order.

    The expressions are those of mmcv's ``ROIAlignBackward`` and
    ``bilinear_interpolate_gradient`` (average mode), evaluated in the dtype of
    ``grad_out``.
    """
    num, channels, pooled_h, pooled_w = grad_out.shape
    dtype, device = grad_out.dtype, grad_out.device
    start_h, start_w, bin_h, bin_w, grid_h, grid_w = grids
    count = (grid_h * grid_w).to(dtype)
    per_roi = pooled_h * pooled_w * grid_h * grid_w
    roi = torch.repeat_interleave(torch.arange(num, device=device), per_roi)
    local = (torch.arange(roi.numel(), device=device) -
             (torch.cumsum(per_roi, 0) - per_roi)[roi])
    roi_grid_h, roi_grid_w = grid_h[roi], grid_w[roi]
    ix = local % roi_grid_w
    rest = local // roi_grid_w
    iy = rest % roi_grid_h
    rest = rest // roi_grid_h
    pw = rest % pooled_w
    ph = rest // pooled_w
    y = (start_h[roi] + ph.to(dtype) * bin_h[roi] +
         (iy.to(dtype) + 0.5) * bin_h[roi] / roi_grid_h.to(dtype))
    x = (start_w[roi] + pw.to(dtype) * bin_w[roi] +
         (ix.to(dtype) + 0.5) * bin_w[roi] / roi_grid_w.to(dtype))
    inside = ~((y < -1.0) | (y > height) | (x < -1.0) | (x > width))
    y = torch.where(y <= 0, torch.zeros_like(y), y)
    x = torch.where(x <= 0, torch.zeros_like(x), x)
    y_low, x_low = y.long(), x.long()
    y_last, x_last = y_low >= height - 1, x_low >= width - 1
    y_low = torch.where(y_last, height - 1, y_low)
    x_low = torch.where(x_last, width - 1, x_low)
    y_high = torch.where(y_last, y_low, y_low + 1)
    x_high = torch.where(x_last, x_low, x_low + 1)
    y = torch.where(y_last, y_low.to(dtype), y)
    x = torch.where(x_last, x_low.to(dtype), x)
    ly, lx = y - y_low.to(dtype), x - x_low.to(dtype)
    hy, hx = 1 - ly, 1 - lx
    weights = torch.stack([hy * hx, hy * lx, ly * hx, ly * lx], dim=1)[inside]
    rows = torch.stack([y_low, y_low, y_high, y_high], dim=1)[inside]
    cols = torch.stack([x_low, x_high, x_low, x_high], dim=1)[inside]
    roi, ph, pw = roi[inside], ph[inside], pw[inside]
    base = rois[:, 0].long()[roi] * (height * width)
    destinations = (base[:, None] + rows * width + cols).reshape(-1)
    grads = grad_out.permute(0, 2, 3, 1)[roi, ph, pw]  # (S, C)
    values = (grads[:, None, :] * weights[:, :, None]) / count[roi][:, None, None]
    return destinations, values.reshape(-1, channels)


def roi_align_input_grad(grad_out: Tensor, rois: Tensor,
                         input_shape: Tuple[int, int, int, int],
                         spatial_scale: float, sampling_ratio: int,
                         aligned: bool) -> Tensor:
    """Gradient of average RoIAlign with respect to its input, as mmcv computes it.

    Args:
        grad_out: ``(R, C, PH, PW)`` gradient of the aligned features.
        rois: ``(R, 5)`` boxes ``(batch index, x1, y1, x2, y2)``.
        input_shape: ``(B, C, H, W)`` of the feature map.
        spatial_scale: Scale of the boxes onto the map.
        sampling_ratio: Samples per bin side; 0 for ``ceil(roi size / bins)``.
        aligned: mmcv's ``aligned`` (the half-pixel offset).

    Returns:
        ``(B, C, H, W)`` gradient, equal to mmcv's ``roi_align_backward``.
    """
    batch, channels, height, width = input_shape
    flat = grad_out.new_zeros((batch * height * width, channels))
    if rois.numel():
        grad_out = grad_out.contiguous()
        pooled_h, pooled_w = grad_out.shape[2:]
        grids = _sampling_grids(rois, pooled_h, pooled_w, spatial_scale,
                                sampling_ratio, aligned, grad_out.dtype)
        # chunks of whole RoIs, in order, of at most CHUNK_BYTES of
        # contributions (a RoI larger than that is a chunk of its own); the
        # additions keep mmcv's order across chunks
        samples = pooled_h * pooled_w * grids[4] * grids[5]
        per_roi_bytes = samples * 4 * channels * grad_out.element_size()
        chunk_of_roi = torch.cumsum(per_roi_bytes, 0) // CHUNK_BYTES
        start = 0
        for end in torch.unique_consecutive(
                chunk_of_roi, return_counts=True)[1].cumsum(0).tolist():
            destinations, values = _sample_grads(
                grad_out[start:end], rois[start:end],
                tuple(g[start:end] for g in grids), height, width)
            flat.index_add_(0, destinations, values)
            start = end
    return flat.view(batch, height, width,
                     channels).permute(0, 3, 1, 2).contiguous()


class _RoIAlignFastBackward(torch.autograd.Function):
    """mmcv's average RoIAlign forward, :func:`roi_align_input_grad` backward."""

    @staticmethod
    def forward(ctx, feats: Tensor, rois: Tensor, output_size: Tuple[int, int],
                spatial_scale: float, sampling_ratio: int,
                aligned: bool) -> Tensor:
        ctx.save_for_backward(rois)
        ctx.settings = (tuple(feats.shape), spatial_scale, sampling_ratio, aligned)
        # (an autograd Function's forward runs without recording a graph)
        return roi_align(feats, rois, output_size, spatial_scale, sampling_ratio,
                         'avg', aligned)

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        rois, = ctx.saved_tensors
        shape, spatial_scale, sampling_ratio, aligned = ctx.settings
        grad = roi_align_input_grad(grad_out, rois, shape, spatial_scale,
                                    sampling_ratio, aligned)
        return grad, None, None, None, None, None


class RoIAlignFastBackward(RoIAlign):
    """mmcv's ``RoIAlign`` whose input gradient on CPU tensors comes from
    :func:`roi_align_input_grad` (the same values, a fraction of the time).

    Average pooling without torchvision only; anything else, and every call on a
    GPU or without a gradient, runs mmcv's own code.
    """

    @classmethod
    def from_layer(cls, layer: RoIAlign) -> 'RoIAlignFastBackward':
        """The same layer settings as ``layer``."""
        return cls(layer.output_size, layer.spatial_scale, layer.sampling_ratio,
                   layer.pool_mode, layer.aligned, layer.use_torchvision)

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:  # noqa: A002
        """Align ``rois`` on ``input`` (``(B, C, H, W)``)."""
        if (input.device.type == 'cpu' and torch.is_grad_enabled()
                and input.requires_grad and self.pool_mode == 'avg'
                and not self.use_torchvision and not rois.requires_grad):
            return _RoIAlignFastBackward.apply(input, rois, self.output_size,
                                               self.spatial_scale,
                                               self.sampling_ratio, self.aligned)
        return super().forward(input, rois)
