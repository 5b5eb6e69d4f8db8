"""RoI features of the exemplar crops, batched for speed (paper Sec. 3.2)."""
from typing import Callable, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from .crop_canvas import canvas_compatible, canvas_feature_maps
from .crop_roi_align import roi_feats_by_shape, whole_crop_roi_feats
from .exemplar_crops import bucket_crops
from .memory_format import crop_memory_format

#: Original-size crops are padded (with the background value) to a multiple of this.
CROP_SIZE_DIVISOR = 32


def crop_roi_feats(extract_feat: Callable[[Tensor], Tuple[Tensor, ...]],
                   backbone: nn.Module, extractor: nn.Module, batch: Tensor,
                   sizes: Sequence[Tuple[int, int]]) -> Tensor:
    """RoI features of the whole ``(w, h)`` box of each crop of a batch.

    Args:
        extract_feat: The detector's backbone (+ neck).
        backbone: Its backbone (which memory format is safe).
        extractor: The RoI extractor of the stage that embeds.
        batch: ``(n, 3, H, W)`` crops.
        sizes: ``(w, h)`` of each crop inside the batch.

    Returns:
        ``(n, C, s, s)`` RoI features.
    """
    x = extract_feat(batch.contiguous(memory_format=crop_memory_format(backbone)))
    if extractor.num_inputs == 1:
        return whole_crop_roi_feats(extractor.roi_layers[0], x[0], sizes)
    rois = torch.cat([
        torch.arange(len(sizes), device=batch.device,
                     dtype=batch.dtype).unsqueeze(1),
        batch.new_tensor([[0.0, 0.0, w, h] for w, h in sizes])
    ], dim=1)
    levels = x[:extractor.num_inputs]
    return extractor(tuple(level.contiguous() for level in levels), rois)


def original_crop_roi_feats(extract_feat: Callable[[Tensor], Tuple[Tensor, ...]],
                            backbone: nn.Module, extractor: nn.Module,
                            crops: Sequence[Tensor], background: Tensor,
                            with_neck: bool) -> Tensor:
    """RoI features of original-size crops, each padded to a multiple of 32 with
    ``background`` and aligned on its whole box.

    One canvas for all crops (:func:`canvas_feature_maps`) where the backbone
    allows it (no neck, one feature level, :func:`canvas_compatible`), else one
    batch per padded size (:func:`bucket_crops`); both give each crop the
    features it has alone.

    Returns:
        ``(P, C, s, s)`` RoI features in the order of ``crops``.
    """
    sizes = [(c.shape[2], c.shape[1]) for c in crops]
    if (not with_neck and extractor.num_inputs == 1
            and canvas_compatible(backbone)):
        divisor = CROP_SIZE_DIVISOR
        padded = [(-(-h // divisor) * divisor, -(-w // divisor) * divisor)
                  for w, h in sizes]
        maps = canvas_feature_maps(backbone, crops, padded, background,
                                   int(extractor.featmap_strides[0]),
                                   crop_memory_format(backbone))
        return roi_feats_by_shape(extractor.roi_layers[0], maps, sizes)
    feats: Optional[Tensor] = None
    for batch, _, positions in bucket_crops(crops, background,
                                            CROP_SIZE_DIVISOR):
        bucket = crop_roi_feats(extract_feat, backbone, extractor, batch,
                                [sizes[i] for i in positions.tolist()])
        if feats is None:
            feats = bucket.new_zeros((len(crops), ) + bucket.shape[1:])
        feats = feats.index_copy(0, positions, bucket)
    return feats
