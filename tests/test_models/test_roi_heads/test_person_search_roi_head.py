"""PersonSearchRoIHead at test time: stage scoring (SeqNet's first-stage score),
NMS between the stages, and the res4 + res5 embedding (CGPS)."""
import pytest
import torch
from mmcv.ops import nms
from mmdet.registry import MODELS
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmssl  # noqa: F401
from mmssl.testing import tiny_ssl_config

METAS = [dict(img_shape=(96, 128), ori_shape=(96, 128), scale_factor=(1.0, 1.0))]


def build_head(**embedding):
    init_default_scope('mmdet')
    cfg = tiny_ssl_config('unused', 'unused')
    cfg.model.roi_head.embedding_head.update(embedding)
    torch.manual_seed(0)
    return MODELS.build(cfg.model).roi_head.eval()


def inputs(num_proposals=30):
    gen = torch.Generator().manual_seed(1)
    x = (torch.randn(1, 32, 6, 8, generator=gen), )
    xy = torch.rand(num_proposals, 2, generator=gen) * torch.tensor([90., 60.])
    wh = 8 + torch.rand(num_proposals, 2, generator=gen) * 30
    proposals = InstanceData(bboxes=torch.cat([xy, xy + wh], 1))
    return x, [proposals]


def keep_all_cfg(**kwargs):
    """Keep every box: no score threshold, an NMS that suppresses nothing."""
    cfg = dict(score_thr=0.0, nms=dict(type='nms', iou_threshold=1.0),
               max_per_img=1000)
    cfg.update(kwargs)
    return ConfigDict(cfg)


@torch.no_grad()
def stage_logits(head, x, proposals):
    """Both stages' logits, run by hand: stage 0 on the proposals, stage 1 on
    stage 0's regression of them."""
    rois = torch.cat([torch.zeros(len(proposals[0].bboxes), 1),
                      proposals[0].bboxes], 1)
    first = head._bbox_forward(0, x, rois)
    refined = head._refine_rois(0, rois, first, [len(rois)], METAS)
    second = head._bbox_forward(1, x, refined)
    return first['cls_score'], second['cls_score'], refined


@pytest.mark.parametrize('rule', ['first', 'last', 'mean'])
def test_stage_scores(rule):
    head = build_head()
    x, proposals = inputs()
    first, second, _ = stage_logits(head, x, proposals)
    with torch.no_grad():
        got = head.predict_bbox(x, METAS, proposals, keep_all_cfg(stage_scores=rule))[0]
        logits = dict(first=first, last=second, mean=(first + second) / 2)[rule]
    expected = torch.softmax(logits, dim=1)[:, 0]
    assert len(got.scores) == len(expected)
    torch.testing.assert_close(torch.sort(got.scores).values,
                               torch.sort(expected).values)


def test_default_is_the_mean_and_unknown_rule_is_an_error():
    head = build_head()
    x, proposals = inputs()
    with torch.no_grad():
        default = head.predict_bbox(x, METAS, proposals, keep_all_cfg())[0]
        mean = head.predict_bbox(x, METAS, proposals, keep_all_cfg(stage_scores='mean'))[0]
    torch.testing.assert_close(default.scores, mean.scores)
    with pytest.raises(ValueError, match='stage_scores'):
        head.predict_bbox(x, METAS, proposals, keep_all_cfg(stage_scores='max'))


def test_nms_between_the_stages():
    head = build_head()
    x, proposals = inputs()
    first, _, refined = stage_logits(head, x, proposals)
    probs = torch.softmax(first, dim=1)[:, 0]
    thr = float(torch.median(probs))
    inter = dict(score_thr=thr, nms=dict(type='nms', iou_threshold=0.4),
                 max_per_img=300)
    with torch.no_grad():
        got = head.predict_bbox(x, METAS, proposals,
                                keep_all_cfg(stage_scores='first',
                                         inter_stage_nms=inter))[0]
    # stage 2 ran on the refined RoIs above thr that survive NMS at IoU 0.4:
    # with first-stage scores their scores are exactly those RoIs' scores
    above = torch.nonzero(probs > thr).flatten()
    _, kept = nms(refined[above, 1:], probs[above], 0.4)
    expected = probs[above[kept]]
    assert 0 < len(got.scores) == len(expected) < len(probs)
    torch.testing.assert_close(torch.sort(got.scores).values,
                               torch.sort(expected).values)
    # nothing passes: empty results keep the embedding width
    with torch.no_grad():
        empty = head.predict_bbox(x, METAS, proposals, keep_all_cfg(
            inter_stage_nms=dict(inter, score_thr=1.0)))[0]
    assert len(empty.bboxes) == 0 and empty.embeddings.shape == (0, 32)


@pytest.mark.parametrize('embedding', [dict(), dict(pooling='max', res4_channels=32)])
def test_detections_carry_the_embedding_of_their_last_stage_roi(embedding):
    head = build_head(**embedding)
    x, proposals = inputs()
    _, _, refined = stage_logits(head, x, proposals)
    with torch.no_grad():
        got = head.predict_bbox(x, METAS, proposals, keep_all_cfg())[0]
        direct = head.embed_rois(x, refined)
    assert got.embeddings.shape == (len(refined), 32)
    # every detection's embedding is the embedding of one refined RoI
    sims = got.embeddings @ direct.t()
    assert torch.allclose(sims.max(dim=1).values, torch.ones(len(refined)),
                          atol=1e-5)
    if embedding:
        assert head.embedding_head.res4_channels == 32
        # the res4 half sees the RoI-aligned features: changing them moves it
        x2 = (x[0] * 1.5, )
        assert not torch.allclose(head.embed_rois(x2, refined), direct, atol=1e-3)
