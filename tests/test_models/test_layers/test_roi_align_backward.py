"""RoIAlignFastBackward: mmcv's RoIAlign with its CPU input gradient, bit for bit."""
import os.path as osp

import pytest
import torch
from mmcv.ops import RoIAlign, roi_align

from mmssl.models.layers import RoIAlignFastBackward, roi_align_input_grad
from mmssl.models.layers import roi_align_backward as module

CONFIG = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs',
                  'ssl_r18c16-c4_6e_synthps.py')


def random_rois(num, batch, size, generator):
    """Boxes of every kind: inside, across the border, outside, degenerate."""
    width, height = size
    xy = torch.rand(num, 2, generator=generator) * torch.tensor(
        [width * 1.2, height * 1.2]) - torch.tensor([width * 0.1, height * 0.1])
    wh = torch.rand(num, 2, generator=generator) * torch.tensor(
        [width * 0.6, height * 0.8])
    wh[::7] = 0.0  # zero-size boxes
    index = torch.randint(0, batch, (num, 1), generator=generator).float()
    return torch.cat([index, xy, xy + wh], dim=1)


def mmcv_grad(feats, rois, grad_out, output_size, scale, ratio, aligned):
    feats = feats.detach().requires_grad_()
    out = roi_align(feats, rois, output_size, scale, ratio, 'avg', aligned)
    grad, = torch.autograd.grad(out, feats, grad_out)
    return out, grad


@pytest.mark.parametrize('ratio', [0, 1, 2])
@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('threads', [1, 2])
def test_input_grad_equals_mmcv_bit_for_bit(ratio, aligned, threads):
    generator = torch.Generator().manual_seed(ratio * 10 + aligned + threads)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        feats = torch.randn(3, 8, 13, 19, generator=generator)
        rois = random_rois(60, 3, (19 * 16, 13 * 16), generator)
        grad_out = torch.randn(60, 8, 7, 5, generator=generator)
        _, expected = mmcv_grad(feats, rois, grad_out, (7, 5), 1 / 16, ratio,
                                aligned)
        got = roi_align_input_grad(grad_out, rois, feats.shape, 1 / 16, ratio,
                                   aligned)
    finally:
        torch.set_num_threads(before)
    assert got.shape == expected.shape
    assert torch.equal(got, expected)


def test_chunked_accumulation_keeps_the_order(monkeypatch):
    generator = torch.Generator().manual_seed(3)
    feats = torch.randn(2, 4, 10, 12, generator=generator)
    # many overlapping boxes: every map cell gets contributions from many RoIs
    rois = random_rois(40, 2, (12 * 8, 10 * 8), generator)
    grad_out = torch.randn(40, 4, 4, 4, generator=generator)
    _, expected = mmcv_grad(feats, rois, grad_out, (4, 4), 1 / 8, 0, True)
    monkeypatch.setattr(module, 'CHUNK_BYTES', 2048)  # a few RoIs per chunk
    got = roi_align_input_grad(grad_out, rois, feats.shape, 1 / 8, 0, True)
    assert torch.equal(got, expected)


def test_no_rois_gives_a_zero_gradient():
    got = roi_align_input_grad(torch.zeros(0, 4, 2, 2), torch.zeros(0, 5),
                               (2, 4, 6, 6), 0.5, 0, True)
    assert got.shape == (2, 4, 6, 6) and not got.any()


def test_layer_forward_and_gradient_are_mmcv_s():
    generator = torch.Generator().manual_seed(0)
    layer = RoIAlign((6, 6), spatial_scale=1 / 16, sampling_ratio=0)
    fast = RoIAlignFastBackward.from_layer(layer)
    assert isinstance(fast, RoIAlign)
    assert repr(fast) == repr(layer).replace('RoIAlign', 'RoIAlignFastBackward')
    feats = torch.randn(2, 5, 9, 11, generator=generator)
    rois = random_rois(30, 2, (11 * 16, 9 * 16), generator)
    grad_out = torch.randn(30, 5, 6, 6, generator=generator)
    outs, grads = [], []
    for module_ in (layer, fast):
        x = feats.clone().requires_grad_()
        out = module_(x, rois)
        out.backward(grad_out)
        outs.append(out)
        grads.append(x.grad)
    assert torch.equal(outs[0], outs[1])
    assert torch.equal(grads[0], grads[1])
    assert outs[1].grad_fn is not None
    assert 'RoIAlignFastBackward' in type(outs[1].grad_fn).__name__


def test_layer_without_gradient_runs_mmcv(monkeypatch):
    calls = []
    monkeypatch.setattr(module._RoIAlignFastBackward, 'apply',
                        lambda *args: calls.append(args))
    fast = RoIAlignFastBackward((2, 2), 1.0)
    feats = torch.randn(1, 2, 4, 4)
    rois = torch.tensor([[0.0, 0.0, 0.0, 3.0, 3.0]])
    with torch.no_grad():
        fast(feats.requires_grad_(), rois)
    fast(feats.detach(), rois)  # no gradient wanted
    RoIAlignFastBackward((2, 2), 1.0, pool_mode='max')(feats, rois)
    assert calls == []


def test_person_search_roi_head_uses_it():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmdet.registry import MODELS

    import mmssl  # noqa: F401
    init_default_scope('mmdet')
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    cfg.model.roi_head.stage_shared_heads.init_cfg = None
    head = MODELS.build(cfg.model.roi_head)
    layers = [layer for extractor in head.bbox_roi_extractor
              for layer in extractor.roi_layers]
    assert layers and all(type(layer) is RoIAlignFastBackward for layer in layers)
