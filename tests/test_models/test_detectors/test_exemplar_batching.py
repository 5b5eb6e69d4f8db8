"""The batched exemplar branch computes what the per-person computation computes.

``PersonSearchDetector.embed_exemplars`` batches the crops for speed (one canvas for
the original-size crops, one batch per scale, one res5 pass). The reference below
is the plain per-person loop the branch was written as: each person's crops on
their own, the original crop padded to a multiple of 32, through backbone, RoI
head and embedding head one at a time (paper Sec. 3.2, Eq. 1).
"""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmssl  # noqa: F401
from mmssl.models.detectors.person_search_detector import ORIGINAL_CROP_DOMAIN
from mmssl.models.layers import (canvas_compatible, crop_memory_format,
                                 frozen_bn_statistics, make_exemplar_crops,
                                 pad_crops)
from mmssl.testing import tiny_ssl_config
from mmssl.testing.tiny_runs import config_path

HEIGHT, WIDTH = 96, 128
#: Persons of varied sizes (several 32-px size classes), one past the border,
#: one a few pixels small.
BOXES = [
    [[3., 4., 30., 70.], [40.2, 10.7, 61.9, 44.1], [100., 50., 140., 100.]],
    [[0., 0., 13., 20.], [20., 8., 70., 90.], [75.5, 30.5, 79.5, 37.5],
     [80., 2., 120., 60.]],
]


def build(norm: str = 'frozen_bn', scales=((32, 16), (64, 32)),
          with_original: bool = True, with_masks: bool = True,
          res4: bool = False, shipped: bool = False):
    """The tiny SSL model (or, ``shipped``, the SynthPS config's) with
    non-trivial normalisation statistics."""
    init_default_scope('mmdet')
    if shipped:  # 16 channels: the crops run channels-last
        cfg = Config.fromfile(config_path('ssl_r18c16-c4_6e_synthps.py'))
    else:  # 8 channels: contiguous (oneDNN issue 6035)
        cfg = tiny_ssl_config('unused', 'unused')
        cfg.model.exemplar_branch = dict(scales=[list(s) for s in scales],
                                         with_original=with_original)
        cfg.model.roi_head.embedding_head.num_domains = len(scales) + 2
    if res4:  # the head embeds the RoI-aligned features too (CGPS)
        cfg.model.roi_head.embedding_head.res4_channels = 32
    if norm == 'group_norm':  # per-sample norms the canvas does not allow
        gn = dict(type='GN', num_groups=4, requires_grad=True)
        cfg.model.backbone.update(norm_cfg=gn, norm_eval=False)
        cfg.model.roi_head.stage_shared_heads.update(norm_cfg=gn,
                                                     norm_eval=False)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.normal_(0, 0.5, generator=generator)
            module.running_var.uniform_(0.5, 2.0, generator=generator)
    # the crop domains' statistics from the crops themselves, so that the
    # embeddings are centred and tell the persons apart
    model.eval()
    with torch.no_grad(), model.roi_head.embedding_head.calibrating():
        model.embed_exemplars(*scene_inputs(with_masks))
    return model


def scene_inputs(with_masks: bool):
    """Two normalised images, their boxes and (blob-shaped) foreground masks."""
    generator = torch.Generator().manual_seed(2)
    inputs = torch.randn(2, 3, HEIGHT, WIDTH, generator=generator)
    boxes = [torch.tensor(b) for b in BOXES]
    masks = [(torch.rand(len(b), HEIGHT, WIDTH, generator=generator) > 0.4
              ).float() if with_masks else None for b in BOXES]
    return inputs, boxes, masks


def reference_exemplars(model, inputs, boxes, masks):
    """One person, one scale at a time (the branch as first written)."""
    mean = model.data_preprocessor.mean.view(-1)
    std = model.data_preprocessor.std.view(-1)
    background = (0.0 - mean) / std
    scales = model.exemplar_scales
    rows = []
    with frozen_bn_statistics(model):
        for image, img_boxes, img_masks in zip(inputs, boxes, masks):
            for p in range(len(img_boxes)):
                person_masks = None if img_masks is None else img_masks[p:p + 1]
                (original, ), scaled = make_exemplar_crops(
                    image, img_boxes[p:p + 1], person_masks, scales, background)
                columns = []
                if model.exemplar_with_original:
                    batch, crop_boxes = pad_crops([original], background, 32)
                    columns.append(embed_one(model, batch, crop_boxes,
                                             ORIGINAL_CROP_DOMAIN))
                for k, crop in enumerate(scaled):
                    h, w = crop.shape[-2:]
                    columns.append(embed_one(model, crop,
                                             crop.new_tensor([[0, 0, w, h]]),
                                             ORIGINAL_CROP_DOMAIN + 1 + k))
                if not model.exemplar_with_original:
                    columns.insert(0, columns[0])
                if not scales:
                    columns.append(columns[0])
                rows.append(torch.cat(columns))
    return torch.stack(rows)


def embed_one(model, batch, crop_boxes, domain):
    rois = torch.cat([crop_boxes.new_zeros((1, 1)), crop_boxes], dim=1)
    return model.roi_head.embed_rois(model.extract_feat(batch), rois,
                                     domain=domain)


#: On unit vectors. The calibrated normalisation magnifies float32 rounding: on
#: this model the float32 reference itself is up to 3e-5 from a float64 one,
#: while a crop that sees its canvas neighbours is off by 0.7.
TOLERANCE = 1e-4

CASES = [
    dict(),
    dict(with_masks=False),
    dict(with_original=False),
    dict(scales=()),
    dict(norm='group_norm'),
    dict(res4=True),
    dict(shipped=True),
]


@pytest.mark.parametrize('mode', ['train', 'eval'])
@pytest.mark.parametrize('case', CASES, ids=lambda c: ','.join(
    f'{k}={v}' for k, v in c.items()) or 'default')
def test_batched_exemplars_match_the_per_person_loop(case, mode):
    with_masks = case.get('with_masks', True)
    model = build(**case)
    model.train(mode == 'train')
    reference_model = copy.deepcopy(model)
    assert canvas_compatible(model.backbone) == (case.get('norm') is None)
    assert (crop_memory_format(model.backbone) == torch.channels_last) == bool(
        case.get('shipped'))
    inputs, boxes, masks = scene_inputs(with_masks)
    head = model.roi_head.embedding_head
    batches_before = head.domain_batches.clone()

    batched = model.embed_exemplars(inputs, boxes, masks)
    expected = reference_exemplars(reference_model, inputs, boxes, masks)
    num_columns = max(len(model.exemplar_scales), 1) + 1
    assert batched.shape == (7, num_columns, head.embed_dim)
    assert torch.allclose(batched, expected, atol=TOLERANCE), (
        (batched - expected).abs().max())
    # the persons are told apart (the comparison is not between constants)
    cosine = batched[:, -1] @ batched[:, -1].T
    assert cosine[~torch.eye(7, dtype=torch.bool)].max() < 0.9

    # in training, each crop domain's statistics move once, from all its crops
    moved = head.domain_batches - batches_before
    used = [d - 1 for d in range(ORIGINAL_CROP_DOMAIN, head.num_domains)
            if model.exemplar_with_original or d != ORIGINAL_CROP_DOMAIN]
    expected_moves = torch.zeros_like(moved)
    if mode == 'train':
        expected_moves[used] = 1
    assert torch.equal(moved, expected_moves)


@pytest.mark.parametrize('shipped', [False, True])
def test_batched_exemplars_backpropagate_like_the_loop(shipped):
    model = build(shipped=shipped).train()
    reference_model = copy.deepcopy(model)
    inputs, boxes, masks = scene_inputs(True)
    batched = model.embed_exemplars(inputs, boxes, masks)
    weights = torch.randn(batched.shape,
                          generator=torch.Generator().manual_seed(3))
    (batched * weights).sum().backward()
    (reference_exemplars(reference_model, inputs, boxes, masks) *
     weights).sum().backward()
    compared = 0
    for (name, param), ref in zip(model.named_parameters(),
                                  reference_model.parameters()):
        if ref.grad is None:
            assert param.grad is None or not param.grad.any(), name
            continue
        error = (param.grad - ref.grad).norm() / ref.grad.norm().clamp(min=1e-12)
        assert error < 1e-4, (name, float(error))
        compared += 1
    assert compared > 10  # backbone, res5 and the embedding head


def test_no_persons_give_an_empty_result():
    model = build().eval()
    inputs, _, _ = scene_inputs(False)
    empty = [torch.zeros((0, 4)), torch.zeros((0, 4))]
    out = model.embed_exemplars(inputs, empty, [None, None])
    assert out.shape == (0, 3, 32)
