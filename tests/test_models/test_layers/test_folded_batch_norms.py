"""Frozen batch norms folded into their convolutions compute what the pairs do."""
import pytest
import torch
from mmcv.cnn.bricks import ConvWS2d
from mmdet.models.backbones import ResNet, ResNetV1d
from torch import nn

from mmssl.models.layers import (ResStageHead, conv_norm_pairs,
                                 folded_batch_norms)


def frozen(module: nn.Module) -> nn.Module:
    """``module`` in training mode with its batch norms on non-trivial running
    statistics and affine parameters, in eval mode (``norm_eval``)."""
    generator = torch.Generator().manual_seed(0)
    module.train()
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.5, generator=generator)
            m.running_var.uniform_(0.5, 2.0, generator=generator)
            m.weight.data.uniform_(0.5, 1.5, generator=generator)
            m.bias.data.normal_(0, 0.2, generator=generator)
            m.eval()
    return module


def synthps_backbone() -> nn.Module:
    torch.manual_seed(0)
    return frozen(ResNet(depth=18, base_channels=16, num_stages=3,
                         strides=(1, 2, 2), dilations=(1, 1, 1),
                         out_indices=(2, ), frozen_stages=-1, norm_eval=True))


def forward_backward(module, x, fold):
    module.zero_grad()
    if fold:
        with folded_batch_norms(module) as num:
            out = module(x)
        assert num > 0
    else:
        out = module(x)
    if isinstance(out, tuple):
        out = out[0]
    # a loss that weighs every output element differently
    weights = torch.linspace(-1, 1, out.numel()).view_as(out)
    (out * weights).sum().backward()
    grads = {name: p.grad.clone() for name, p in module.named_parameters()
             if p.grad is not None}
    return out.detach(), grads


@pytest.mark.parametrize('memory_format',
                         [torch.contiguous_format, torch.channels_last])
def test_outputs_and_gradients_match_the_pairs(memory_format):
    backbone = synthps_backbone()
    x = torch.randn(3, 3, 112, 48).contiguous(memory_format=memory_format)
    out, grads = forward_backward(backbone, x, fold=False)
    folded_out, folded_grads = forward_backward(backbone, x, fold=True)
    assert torch.allclose(folded_out, out, rtol=1e-4, atol=1e-4 * out.abs().max())
    # every parameter, the norms' affine ones included, gets its gradient
    assert folded_grads.keys() == grads.keys()
    assert any('bn' in name for name in grads)
    for name, grad in grads.items():
        scale = grad.abs().max()
        assert scale > 0, name
        assert torch.allclose(folded_grads[name], grad, rtol=1e-3,
                              atol=1e-4 * scale), name


def test_the_modules_are_restored_on_exit_and_on_error():
    backbone = synthps_backbone()
    x = torch.randn(1, 3, 64, 32)
    before = backbone(x)[0]
    with pytest.raises(RuntimeError, match='inside'):
        with folded_batch_norms(backbone):
            raise RuntimeError('inside')
    for m in backbone.modules():
        assert 'forward' not in m.__dict__
    assert torch.equal(backbone(x)[0], before)
    # the norms run again: a changed running mean changes the output
    backbone.bn1.running_mean += 1.0
    assert not torch.allclose(backbone(x)[0], before)


def test_the_parameters_inside_are_those_of_entry():
    """The folded weights are taken once, on entry (the docstring's contract)."""
    backbone = synthps_backbone()
    x = torch.randn(1, 3, 64, 32)
    with folded_batch_norms(backbone):
        first = backbone(x)[0]
        with torch.no_grad():
            backbone.conv1.weight.mul_(2.0)
        assert torch.equal(backbone(x)[0], first)


def test_batch_norms_on_batch_statistics_are_not_folded():
    backbone = synthps_backbone()
    for m in backbone.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.train()
    assert conv_norm_pairs(backbone) == []
    backbone.eval()
    assert len(conv_norm_pairs(backbone)) == 15


@pytest.mark.parametrize('build, expected', [
    # stem 1; per stage 3 blocks x 3 norms ... + 1 downsample
    (lambda: ResNet(depth=50), 1 + 10 + 13 + 19 + 10),
    # the deep stem's three pairs, downsampling behind an average pooling
    (lambda: ResNetV1d(depth=18), 3 + 4 + 5 + 5 + 5),
    (lambda: ResStageHead(in_channels=64, planes=128, num_blocks=2), 5),
])
def test_pairs_of_mmdet_resnets(build, expected):
    torch.manual_seed(0)
    module = frozen(build())
    pairs = conv_norm_pairs(module)
    assert len(pairs) == expected
    assert len({id(norm) for _, norm in pairs}) == expected
    x = torch.randn(2, 64 if isinstance(module, ResStageHead) else 3, 64, 64)
    with torch.no_grad():
        out = module(x)
        with folded_batch_norms(module):
            folded_out = module(x)
    out = out[-1] if isinstance(out, tuple) else out
    folded_out = folded_out[-1] if isinstance(folded_out, tuple) else folded_out
    assert torch.allclose(folded_out, out, rtol=1e-4, atol=1e-4 * out.abs().max())


def test_what_cannot_be_folded_is_left_alone():
    torch.manual_seed(0)
    # a deformable second convolution and checkpointed blocks keep their norms
    dcn = frozen(ResNet(depth=50, dcn=dict(type='DCNv2', deform_groups=1),
                        stage_with_dcn=(False, False, False, True)))
    assert len(conv_norm_pairs(dcn)) == 53 - 3
    # (mmdet's ResNet carries the blocks' with_cp itself: all of it is left)
    checkpointed = frozen(ResNet(depth=18, with_cp=True))
    assert conv_norm_pairs(checkpointed) == []
    assert len(conv_norm_pairs(frozen(ResNet(depth=18)))) == 1 + 4 + 5 + 5 + 5
    # a weight-standardised convolution has a forward of its own
    standardised = frozen(nn.Sequential(ConvWS2d(3, 8, 3), nn.BatchNorm2d(8)))
    assert conv_norm_pairs(standardised) == []
