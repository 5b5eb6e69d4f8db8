import pytest
import torch

from mmssl.models.layers import ResStageHead, make_exemplar_crops, pad_crops


def test_crops_are_masked_and_resized():
    image = torch.arange(3 * 20 * 30, dtype=torch.float32).view(3, 20, 30)
    boxes = torch.tensor([[2.0, 3.0, 12.0, 18.0], [20.0, 0.0, 30.0, 10.0]])
    masks = torch.zeros(2, 20, 30)
    masks[0, 3:10, 2:12] = 1  # upper part of person 0 is foreground
    masks[1] = 1
    background = torch.tensor([-1.0, -2.0, -3.0])
    originals, scaled = make_exemplar_crops(image, boxes, masks,
                                            [(8, 4), (16, 8)], background)
    assert [tuple(c.shape) for c in originals] == [(3, 15, 10), (3, 10, 10)]
    # foreground pixels are the image's, background pixels take the fill value
    assert torch.equal(originals[0][:, :7], image[:, 3:10, 2:12])
    assert torch.all(originals[0][0, 7:] == -1)
    assert torch.all(originals[0][2, 7:] == -3)
    assert torch.equal(originals[1], image[:, 0:10, 20:30])
    assert scaled[0].shape == (2, 3, 8, 4) and scaled[1].shape == (2, 3, 16, 8)


def test_crops_without_masks_keep_pixels():
    image = torch.randn(3, 16, 16)
    boxes = torch.tensor([[0.0, 0.0, 16.0, 16.0]])
    originals, scaled = make_exemplar_crops(image, boxes, None, [(16, 16)],
                                            torch.zeros(3))
    assert torch.equal(originals[0], image)
    assert torch.allclose(scaled[0][0], image, atol=1e-6)


def test_degenerate_and_out_of_image_boxes_give_one_pixel_at_least():
    image = torch.randn(3, 10, 10)
    boxes = torch.tensor([[9.5, 9.5, 9.6, 9.6], [-5.0, -5.0, 30.0, 30.0]])
    originals, _ = make_exemplar_crops(image, boxes, None, [(4, 2)], torch.zeros(3))
    assert originals[0].shape[1:] == (1, 1)
    assert originals[1].shape[1:] == (10, 10)


def test_pad_crops_boxes_and_fill():
    crops = [torch.ones(3, 5, 7), torch.ones(3, 9, 2)]
    batch, boxes = pad_crops(crops, torch.tensor([7.0, 8.0, 9.0]), size_divisor=4)
    assert batch.shape == (2, 3, 12, 8)
    assert boxes.tolist() == [[0, 0, 7, 5], [0, 0, 2, 9]]
    assert batch[0, 1, 6, 0] == 8.0 and batch[0, 1, 4, 6] == 1.0
    with pytest.raises(ValueError):
        pad_crops([], torch.zeros(3))


def test_res_stage_head_shapes_and_names():
    head = ResStageHead(in_channels=8, planes=16, num_blocks=2, stride=2)
    assert head(torch.randn(2, 8, 8, 8)).shape == (2, 16, 4, 4)
    assert '0.conv1.weight' in head.state_dict()
    bottleneck = ResStageHead(in_channels=16, planes=4, num_blocks=1,
                              block='bottleneck', norm_eval=True)
    assert bottleneck(torch.randn(1, 16, 6, 6)).shape == (1, 16, 3, 3)
    bottleneck.train()
    assert not bottleneck[0].bn1.training
    with pytest.raises(ValueError):
        ResStageHead(in_channels=8, planes=8, block='dense')


def test_bucket_crops_groups_by_padded_size_and_keeps_positions():
    from mmssl.models.layers import bucket_crops
    crops = [torch.full((3, 20, 10), 1.0), torch.full((3, 70, 30), 2.0),
             torch.full((3, 30, 5), 3.0), torch.full((3, 65, 40), 4.0)]
    buckets = bucket_crops(crops, torch.zeros(3), size_divisor=32)
    seen = {}
    for batch, boxes, positions in buckets:
        for row, pos in enumerate(positions.tolist()):
            h, w = crops[pos].shape[1:]
            assert boxes[row].tolist() == [0, 0, w, h]
            assert torch.equal(batch[row, :, :h, :w], crops[pos])
            seen[pos] = tuple(batch.shape[2:])
    assert seen == {0: (32, 32), 1: (96, 32), 2: (32, 32), 3: (96, 64)}


def test_frozen_bn_statistics_keeps_running_stats_but_uses_batch_stats():
    from mmssl.models.layers import frozen_bn_statistics
    bn = torch.nn.BatchNorm2d(3).train()
    x = torch.randn(4, 3, 5, 5) * 3 + 2
    with frozen_bn_statistics(bn):
        out = bn(x)
    assert torch.equal(bn.running_mean, torch.zeros(3))
    assert torch.equal(bn.running_var, torch.ones(3))
    assert bn.momentum == 0.1  # restored
    assert out.mean().abs() < 1e-5  # normalised with the batch's statistics
    bn(x)
    assert not torch.equal(bn.running_mean, torch.zeros(3))
