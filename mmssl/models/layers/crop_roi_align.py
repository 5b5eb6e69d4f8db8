"""RoI-align whole crops as a matrix product (the exemplar branch's RoI step)."""
from collections import OrderedDict
from typing import Dict, Hashable, List, Sequence, Tuple

import torch
from mmcv.ops import RoIAlign
from torch import Tensor, nn


#: Alignment operators kept (least recently used dropped first). One per map size
#: and box size: the scales' crops share a few, the original-size crops one per
#: person size seen; each is at most a few hundred KiB.
OPERATOR_CACHE_SIZE = 4096

_operators: 'OrderedDict[Hashable, Tensor]' = OrderedDict()


def alignment_operator(roi_layer: RoIAlign, height: int, width: int,
                       box: Tuple[int, int], dtype: torch.dtype,
                       device: torch.device) -> Tensor:
    """The ``(h * w, bins)`` matrix of average RoIAlign of the box ``(0, 0, *box)``
    on an ``h x w`` map, found by aligning a one-hot basis with the layer itself.

    Kept in a cache of :data:`OPERATOR_CACHE_SIZE` (the same layer settings, map
    and box give the same matrix; building it costs a RoIAlign call over
    ``h * w`` channels, which every step would otherwise repeat).
    """
    key = (tuple(roi_layer.output_size), float(roi_layer.spatial_scale),
           int(roi_layer.sampling_ratio), bool(roi_layer.aligned),
           bool(roi_layer.use_torchvision), int(height),
           int(width), tuple(float(v) for v in box), dtype, device)
    operator = _operators.get(key)
    if operator is not None:
        _operators.move_to_end(key)
        return operator
    basis = torch.eye(height * width, dtype=dtype, device=device)
    rois = torch.tensor([[0.0, 0.0, 0.0, float(box[0]), float(box[1])]],
                        dtype=dtype, device=device)
    with torch.no_grad():
        operator = roi_layer(basis.view(1, height * width, height, width), rois)
    operator = operator.flatten(2)[0]  # (h * w, bins)
    _operators[key] = operator
    if len(_operators) > OPERATOR_CACHE_SIZE:
        _operators.popitem(last=False)
    return operator


def whole_crop_roi_feats(roi_layer: nn.Module, maps: Tensor,
                         sizes: Sequence[Tuple[int, int]]) -> Tensor:
    """``roi_layer(maps, rois)`` for the box ``(0, 0, w_i, h_i)`` of each crop.

    Each exemplar crop's RoI is the whole crop, on its own feature map. Average
    RoIAlign is linear in the features: for a map size and a box it is one matrix
    (:func:`alignment_operator`), applied as a (batched) matrix product, whose
    backward is a matrix product too (mmcv's CPU RoIAlign backward is far
    slower). Other RoI layers are called as they are.

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
    if not (isinstance(roi_layer, RoIAlign) and roi_layer.pool_mode == 'avg'):
        boxes = maps.new_tensor([[0.0, 0.0, w, h] for w, h in sizes]).view(n, 4)
        rois = torch.cat([torch.arange(n, device=maps.device,
                                       dtype=maps.dtype).unsqueeze(1), boxes], 1)
        return roi_layer(maps.contiguous(), rois)
    uniform = all(tuple(s) == tuple(sizes[0]) for s in sizes)
    operators = [alignment_operator(roi_layer, height, width, size, maps.dtype,
                                    maps.device)
                 for size in (sizes[:1] if uniform else sizes)]
    flat = maps.reshape(n, channels, height * width)
    feats = (flat @ operators[0] if uniform else
             torch.bmm(flat, torch.stack(operators)))
    return feats.view(n, channels, *roi_layer.output_size)


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
