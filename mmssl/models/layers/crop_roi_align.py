"""RoI-align whole crops as a matrix product (the exemplar branch's RoI step)."""
from typing import Dict, List, Sequence, Tuple

import torch
from mmcv.ops import RoIAlign
from torch import Tensor, nn


def whole_crop_roi_feats(roi_layer: nn.Module, maps: Tensor,
                         sizes: Sequence[Tuple[int, int]]) -> Tensor:
    """``roi_layer(maps, rois)`` for the box ``(0, 0, w_i, h_i)`` of each crop.

    Each exemplar crop's RoI is the whole crop, on its own feature map. Average
    RoIAlign is linear in the features: for a map size and a box it is one matrix,
    found here by aligning a one-hot basis with the layer itself, and applied as a
    (batched) matrix product, whose backward is a matrix product too (mmcv's CPU
    RoIAlign backward is far slower). Other RoI layers are called as they are.

    Args:
        roi_layer: The RoI layer of a single-level RoI extractor (its
            ``roi_layers[0]``).
        maps: ``(n, C, h, w)`` feature maps, the ``i``-th of the ``i``-th crop.
        sizes: ``(w_i, h_i)`` of each crop in input pixels.

    Returns:
        ``(n, C, *output_size)`` RoI features.
    """
    n, channels, height, width = maps.shape
    if len(sizes) != n:
        raise ValueError(f'whole_crop_roi_feats: {n} maps but {len(sizes)} sizes')
    boxes = maps.new_tensor([[0.0, 0.0, w, h] for w, h in sizes]).view(n, 4)
    if not (isinstance(roi_layer, RoIAlign) and roi_layer.pool_mode == 'avg'):
        rois = torch.cat([torch.arange(n, device=maps.device,
                                       dtype=maps.dtype).unsqueeze(1), boxes], 1)
        return roi_layer(maps.contiguous(), rois)
    uniform = all(tuple(s) == tuple(sizes[0]) for s in sizes)
    operator_boxes = boxes[:1] if uniform else boxes
    basis = torch.eye(height * width, dtype=maps.dtype, device=maps.device)
    rois = torch.cat([operator_boxes.new_zeros((len(operator_boxes), 1)),
                      operator_boxes], 1)
    with torch.no_grad():
        operator = roi_layer(basis.view(1, height * width, height, width), rois)
    out_size = operator.shape[-2:]
    operator = operator.flatten(2)  # (1 or n, h * w, bins)
    flat = maps.reshape(n, channels, height * width)
    feats = flat @ operator[0] if uniform else torch.bmm(flat, operator)
    return feats.view(n, channels, *out_size)


def roi_feats_by_shape(roi_layer: nn.Module, maps: Sequence[Tensor],
                       sizes: Sequence[Tuple[int, int]]) -> Tensor:
    """:func:`whole_crop_roi_feats` for crops whose maps differ in size.

    Args:
        maps: ``(C, h_i, w_i)`` map of each crop.
        sizes: ``(w_i, h_i)`` of each crop in input pixels.

    Returns:
        ``(n, C, *output_size)`` RoI features in the order of ``maps``.
    """
    groups: Dict[Tuple[int, ...], List[int]] = {}
    for i, crop_map in enumerate(maps):
        groups.setdefault(tuple(crop_map.shape), []).append(i)
    feats, order = [], []
    for positions in groups.values():
        feats.append(whole_crop_roi_feats(
            roi_layer, torch.stack([maps[i] for i in positions]),
            [sizes[i] for i in positions]))
        order.extend(positions)
    feats = torch.cat(feats)
    if order != sorted(order):
        inverse = torch.empty(len(order), dtype=torch.long)
        inverse[torch.as_tensor(order)] = torch.arange(len(order))
        feats = feats[inverse.to(feats.device)]
    return feats
