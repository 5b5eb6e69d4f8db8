import pytest
import torch
from mmcv.ops import RoIAlign

from mmssl.models.layers import roi_feats_by_shape, whole_crop_roi_feats


def aligned_directly(layer, maps, sizes):
    rois = torch.tensor([[i, 0.0, 0.0, w, h] for i, (w, h) in enumerate(sizes)])
    return layer(maps, rois)


@pytest.mark.parametrize('sizes', [[(96, 224)] * 3,
                                   [(40, 100), (90, 200), (96, 224)]])
def test_matrix_form_matches_roi_align_and_its_gradient(sizes):
    layer = RoIAlign((8, 8), spatial_scale=1 / 16, sampling_ratio=0)
    maps = torch.randn(len(sizes), 5, 14, 6, requires_grad=True)
    direct = aligned_directly(layer, maps, sizes)
    weights = torch.randn_like(direct)
    (grad_direct, ) = torch.autograd.grad((direct * weights).sum(), maps)
    batched = whole_crop_roi_feats(layer, maps, sizes)
    (grad_batched, ) = torch.autograd.grad((batched * weights).sum(), maps)
    assert batched.shape == (len(sizes), 5, 8, 8)
    assert torch.allclose(batched, direct, atol=1e-5)
    assert torch.allclose(grad_batched, grad_direct, atol=1e-5)


def test_channels_last_maps_and_other_layers():
    sizes = [(30, 60), (32, 64)]
    maps = torch.randn(2, 4, 4, 2).contiguous(memory_format=torch.channels_last)
    align = RoIAlign((3, 3), spatial_scale=1 / 16, sampling_ratio=2)
    assert torch.allclose(whole_crop_roi_feats(align, maps, sizes),
                          aligned_directly(align, maps.contiguous(), sizes),
                          atol=1e-5)
    # max pooling is not linear: the layer is called as it is
    pool = RoIAlign((2, 2), spatial_scale=1 / 16, pool_mode='max')
    assert torch.equal(whole_crop_roi_feats(pool, maps, sizes),
                       aligned_directly(pool, maps.contiguous(), sizes))
    with pytest.raises(ValueError):
        whole_crop_roi_feats(align, maps, sizes[:1])


def test_maps_of_different_sizes_keep_their_order():
    layer = RoIAlign((4, 4), spatial_scale=1 / 8, sampling_ratio=0)
    shapes = [(6, 4), (3, 2), (6, 4), (3, 3)]
    maps = [torch.randn(2, h, w) for h, w in shapes]
    sizes = [(w * 8 - 3, h * 8) for h, w in shapes]
    feats = roi_feats_by_shape(layer, maps, sizes)
    for i, (crop_map, size) in enumerate(zip(maps, sizes)):
        alone = aligned_directly(layer, crop_map.unsqueeze(0), [size])
        assert torch.allclose(feats[i], alone[0], atol=1e-5)


def test_alignment_operators_are_cached_per_layer_setting_map_and_box():
    from mmssl.models.layers import crop_roi_align
    crop_roi_align._operators.clear()
    coarse = RoIAlign((4, 4), spatial_scale=1 / 16, sampling_ratio=1)
    fine = RoIAlign((4, 4), spatial_scale=1 / 16, sampling_ratio=0)
    maps = torch.randn(2, 3, 14, 6)
    sizes = [(96, 224), (90, 200)]
    for _ in range(2):  # the second pass reads the cache
        for layer in (coarse, fine):
            assert torch.allclose(whole_crop_roi_feats(layer, maps, sizes),
                                  aligned_directly(layer, maps, sizes), atol=1e-5)
    assert len(crop_roi_align._operators) == 4  # 2 settings x 2 boxes
    first = crop_roi_align.alignment_operator(fine, 14, 6, (96, 224),
                                              torch.float32, maps.device)
    assert crop_roi_align.alignment_operator(fine, 14, 6, (96, 224),
                                             torch.float32, maps.device) is first
    assert first.shape == (14 * 6, 16)


def test_alignment_operator_cache_is_bounded(monkeypatch):
    from mmssl.models.layers import crop_roi_align
    crop_roi_align._operators.clear()
    monkeypatch.setattr(crop_roi_align, 'OPERATOR_CACHE_SIZE', 3)
    layer = RoIAlign((2, 2), spatial_scale=1 / 16, sampling_ratio=0)
    maps = torch.randn(1, 2, 4, 2)
    for width in range(20, 26):
        expected = aligned_directly(layer, maps, [(width, 60)])
        assert torch.allclose(whole_crop_roi_feats(layer, maps, [(width, 60)]),
                              expected, atol=1e-5)
    assert len(crop_roi_align._operators) == 3
    # the most recent boxes are kept, the oldest dropped
    assert [key[-3] for key in crop_roi_align._operators] == [
        (23.0, 60.0), (24.0, 60.0), (25.0, 60.0)]
