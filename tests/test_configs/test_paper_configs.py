"""The paper configs (PRW, CUHK-SYSU and the PRW ablations) carry the settings of
docs/configs.md: the paper's where it gives one, CGPS's for the clustering and the
cluster loss, SeqNet's for the detector and its inference."""
import glob
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmssl  # noqa: F401
from mmssl.testing.person_batches import person_batch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAPER_CONFIGS = ['ssl_r50-c4_26e_prw.py', 'ssl_r50-c4_26e_cuhk-sysu.py'] + sorted(
    osp.relpath(p, osp.join(REPO, 'configs'))
    for p in glob.glob(osp.join(REPO, 'configs', 'ablations', 'prw', '*.py')))


def load(name):
    return Config.fromfile(osp.join(REPO, 'configs', name))


def test_the_paper_configs_are_found():
    assert len(PAPER_CONFIGS) == 10


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_same_image_rule_and_fill_at_the_test_scale(name):
    cfg = load(name)
    fill, labels = cfg.custom_hooks
    assert fill['type'] == 'MemoryBankHook' and labels['type'] == 'PseudoLabelHook'
    # CGPS's dbscan_context: two boxes of one image never share a cluster
    assert labels['label_cfg']['same_image_rule'] is True
    assert labels['label_cfg']['eps'] == (0.68, 0.70, 0.72)
    # the banks are filled at the test scale (CGPS), masked as the training crops
    resize = [s for s in fill['pipeline'] if s['type'] == 'Resize']
    test_resize = [s for s in cfg.test_dataloader.dataset.pipeline
                   if s['type'] == 'Resize']
    assert resize[0]['scale'] == test_resize[0]['scale'] == (1500, 900)
    def masked(pipeline):
        return any(s.get('with_fg_mask', False) for s in pipeline)
    assert masked(fill['pipeline']) == masked(cfg.train_dataloader.dataset.pipeline)


@pytest.mark.parametrize('name', ['ssl_r50-c4_26e_prw.py', 'ssl_r50-c4_26e_cuhk-sysu.py'])
def test_cgps_and_seqnet_settings(name):
    cfg = load(name)
    model = cfg.model
    # CGPS's cluster loss: hard negatives by softmax mass, plain-mean centroids
    assert model.loss_cluster.negative_selection == 'mass'
    assert model.loss_cluster.normalize_centroids is False
    assert model.loss_cluster.hard_negative_ratio == 0.6
    # RPN: 256 sampled anchors, 1024 channels (CGPS and SeqNet)
    assert model.train_cfg.rpn.sampler.num == 256
    assert model.rpn_head.feat_channels == 1024
    # both box stages at IoU 0.5, SeqNet's box coder and loss weights
    assert [s.assigner.pos_iou_thr for s in model.train_cfg.rcnn] == [0.5, 0.5]
    assert [h.bbox_coder.target_stds for h in model.roi_head.bbox_head] == \
        [[0.1, 0.1, 0.2, 0.2]] * 2
    assert [h.loss_bbox.loss_weight for h in model.roi_head.bbox_head] == [10.0, 1.0]
    # SeqNet's inference: first-stage score, NMS between stages, CWS
    rcnn = model.test_cfg.rcnn
    assert rcnn.stage_scores == 'first'
    assert rcnn.inter_stage_nms.nms.iou_threshold == 0.4
    assert rcnn.nms.iou_threshold == 0.5
    assert cfg.test_evaluator.confidence_weighted is True
    # the embedding of CGPS and SeqNet: max-pooled res5 + res4
    assert model.roi_head.embedding_head.pooling == 'max'
    assert model.roi_head.embedding_head.res4_channels == 1024
    # CGPS's warm-up
    warmup = cfg.param_scheduler[0]
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR', 1 / 200,
                                                               2242)
    # the per-iteration multi-labels of Eq. 8 (they measured better on SynthPS)
    assert model.get('multilabel_cadence', 'iteration') == 'iteration'


def test_paper_model_trains_and_detects_one_small_pair():
    """One training iteration and one prediction of the R-50 paper model (random
    init, a small pair of images, few RoIs: res5 on the paper's 2 x 128 sampled
    RoIs takes most of a minute on a CPU), through every option the paper configs
    set: res4 + res5 embeddings, first-stage scores, NMS between the stages."""
    init_default_scope('mmdet')
    cfg = load('ssl_r50-c4_26e_prw.py')
    for stage in cfg.model.train_cfg.rcnn:
        stage.sampler.num = 8
    cfg.model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=20)
    cfg.model.test_cfg.rpn.update(nms_pre=200, max_per_img=10)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    num_rows = 2
    model.memory.resize(num_rows)
    model.memory.fill(torch.arange(num_rows), torch.randn(num_rows, 256),
                      torch.randn(num_rows, 256))
    model.memory.mark_initialised()
    model.pseudo_labels.set(torch.arange(num_rows), torch.arange(num_rows + 1),
                            torch.arange(num_rows), epoch=0, threshold=0.7)
    batch = person_batch([[[20., 16., 68., 144.]], [[140., 10., 188., 138.]]],
                         height=160, width=224)
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    for key in ('loss_scale', 'loss_cluster', 'loss_dml_instance',
                'loss_dml_exemplar', 's0.loss_bbox', 's1.loss_cls'):
        assert torch.isfinite(losses[key]).all(), key
    model.eval()
    model.test_cfg.rcnn.inter_stage_nms.score_thr = 0.0  # untrained scores
    model.test_cfg.rcnn.score_thr = 0.0
    with torch.no_grad():
        results = model(**model.data_preprocessor(batch, False), mode='predict')
    for result in results:
        pred = result.pred_instances
        assert 0 < len(pred.bboxes) <= 10
        assert pred.embeddings.shape == (len(pred.bboxes), 256)
