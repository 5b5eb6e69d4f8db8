import pytest
import torch
from torch import nn

from mmssl.models.layers import CropCanvas, canvas_compatible


def small_backbone() -> nn.Module:
    """Stride 8: stem (7x7, stride 2), max pooling, a stride-2 3x3 block."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 7, stride=2, padding=3), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
        nn.Conv2d(6, 6, 3, padding=1), nn.Conv2d(6, 6, 1))
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2)
            m.bias.data.normal_()  # non-zero responses off the crops
    return net.eval()


def test_layout_keeps_crops_apart_and_aligned():
    sizes = [(64, 32), (32, 32), (96, 64), (32, 96), (64, 32)]
    canvas = CropCanvas(sizes, align=16, width=128, height_step=64)
    assert canvas.width >= 128 and canvas.width % 16 == 0
    assert canvas.height % 64 == 0
    boxes = []
    for (h, w), (y, x) in zip(sizes, canvas.offsets):
        assert y % 16 == 0 and x % 16 == 0
        assert y + h + 16 <= canvas.height and x + w + 16 <= canvas.width
        boxes.append((y, x, y + h + 16, x + w + 16))  # with the gap
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = (min(a[2], b[2]) > max(a[0], b[0])
                       and min(a[3], b[3]) > max(a[1], b[1]))
            assert not overlap


def test_each_crop_gets_the_features_it_gets_alone():
    net = small_backbone()
    generator = torch.Generator().manual_seed(1)
    crops = [torch.randn(3, h, w, generator=generator)
             for h, w in [(30, 14), (16, 16), (45, 20), (8, 40)]]
    padded = [(-(-c.shape[1] // 16) * 16, -(-c.shape[2] // 16) * 16)
              for c in crops]
    background = torch.tensor([-1.0, 0.5, 2.0])
    canvas = CropCanvas(padded, align=8, width=48)
    image = canvas.paste(crops, background)
    with torch.no_grad():
        with canvas.separating(net):
            pieces = canvas.cut(net(image))
        mixed = canvas.cut(net(image))
    differs = False
    for crop, (h, w), piece, mixed_piece in zip(crops, padded, pieces, mixed):
        alone = background.view(3, 1, 1).repeat(1, h, w)
        alone[:, :crop.shape[1], :crop.shape[2]] = crop
        with torch.no_grad():
            expected = net(alone.unsqueeze(0))[0]
        assert piece.shape == expected.shape
        assert torch.allclose(piece, expected, atol=1e-5)
        differs |= not torch.allclose(mixed_piece, expected, atol=1e-3)
    assert differs  # without the hooks the crops see each other
    assert not net[0]._forward_pre_hooks  # the hooks are gone afterwards


def test_separation_passes_gradients_to_the_crops_only():
    net = small_backbone()
    crops = [torch.randn(3, 16, 16), torch.randn(3, 32, 16)]
    canvas = CropCanvas([(16, 16), (32, 16)], align=8, width=32)
    image = canvas.paste(crops, torch.zeros(3)).requires_grad_()
    canvas._pasted = None  # make the stem hook run on this leaf too
    with canvas.separating(net):
        pieces = canvas.cut(net(image))
    sum(p.sum() for p in pieces).backward()
    inside = canvas.inside(image)
    assert image.grad[0, :, inside[0, 0] == 0].abs().max() == 0
    assert image.grad.abs().sum() > 0


def test_compatibility_needs_pixelwise_norms():
    net = small_backbone()
    assert canvas_compatible(net)
    net.train()  # batch norms with batch statistics
    assert not canvas_compatible(net)
    assert not canvas_compatible(nn.Sequential(nn.Conv2d(3, 4, 3),
                                               nn.GroupNorm(2, 4)))
    assert not canvas_compatible(nn.Conv2d(3, 4, 3, padding=1,
                                           padding_mode='reflect'))


def test_padding_wider_than_the_gap_is_an_error():
    net = nn.Sequential(nn.Conv2d(3, 3, 3, stride=4, padding=1),
                        nn.Conv2d(3, 3, 5, padding=2)).eval()
    canvas = CropCanvas([(16, 16), (16, 16)], align=4, width=16)
    image = canvas.paste([torch.randn(3, 16, 16)] * 2, torch.zeros(3))
    with pytest.raises(RuntimeError, match='gap'):
        with canvas.separating(net):
            net(image)
    with pytest.raises(ValueError):
        CropCanvas([])


def test_channels_last_only_where_onednn_computes_it_right():
    from mmssl.models.layers import crop_memory_format
    wide = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 1, stride=2))
    assert crop_memory_format(wide) == torch.channels_last
    narrow = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 16, 1, stride=2))
    assert crop_memory_format(narrow) == torch.contiguous_format
