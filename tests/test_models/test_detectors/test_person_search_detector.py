"""PersonSearchDetector: losses, gradients, memory updates, exemplar branch, predict."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes, get_box_tensor
from mmdet.structures.mask import BitmapMasks
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmssl  # noqa: F401
from mmssl.testing import tiny_ssl_config

NUM_ROWS = 12


def build_model():
    init_default_scope('mmdet')
    cfg = tiny_ssl_config('unused', 'unused')
    model = MODELS.build(cfg.model)
    model.memory.resize(NUM_ROWS)
    model.memory.fill(torch.arange(NUM_ROWS),
                      torch.randn(NUM_ROWS, 32), torch.randn(NUM_ROWS, 32))
    model.memory.mark_initialised()
    return model


def make_batch(is_query=False, with_masks=True):
    torch.manual_seed(0)
    samples, images = [], []
    boxes_per_image = [[[10., 8., 40., 80.], [60., 20., 90., 90.]],
                       [[5., 5., 30., 60.], [50., 10., 70., 50.],
                        [90., 30., 120., 95.]]]
    row = 0
    for boxes in boxes_per_image:
        images.append(torch.randint(0, 255, (3, 96, 128), dtype=torch.uint8))
        sample = DetDataSample(metainfo=dict(
            img_shape=(96, 128), ori_shape=(96, 128), pad_shape=(96, 128),
            scale_factor=(1.0, 1.0), batch_input_shape=(96, 128),
            is_query=is_query))
        gt = InstanceData()
        gt.bboxes = HorizontalBoxes(torch.tensor(boxes))
        gt.labels = torch.zeros(len(boxes), dtype=torch.long)
        gt.instance_indices = torch.arange(row, row + len(boxes))
        gt.person_ids = torch.full((len(boxes), ), -1)
        row += len(boxes)
        if with_masks:
            masks = torch.zeros(len(boxes), 96, 128, dtype=torch.uint8)
            for k, (x1, y1, x2, y2) in enumerate(boxes):
                masks[k, int(y1):int(y2), int(x1):int(x2)] = 1
            gt.masks = BitmapMasks(masks.numpy(), 96, 128)
        sample.gt_instances = gt
        samples.append(sample)
    return dict(inputs=images, data_samples=samples)


def run_loss(model, batch):
    data = model.data_preprocessor(batch, True)
    return model(**data, mode='loss')


def test_instance_contrast_before_labels_and_memory_update():
    model = build_model().train()
    before = model.memory.instance_feats.clone()
    losses = run_loss(model, make_batch())
    for key in ('loss_rpn_cls', 's0.loss_cls', 's1.loss_bbox', 'loss_scale',
                'loss_instance'):
        assert key in losses, key
    assert 'loss_cluster' not in losses and 'loss_dml_instance' not in losses
    after = model.memory.instance_feats
    assert not torch.allclose(after[:5], before[:5])  # the 5 batch rows moved
    assert torch.equal(after[5:], before[5:])  # the others did not
    norms = after.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)


def test_labelled_losses_each_reach_the_backbone():
    model = build_model().train()
    labels = torch.arange(NUM_ROWS) // 2  # pairs
    indptr = torch.arange(0, NUM_ROWS + 1) * 2
    indices = torch.stack([labels * 2, labels * 2 + 1], 1).view(-1)
    model.pseudo_labels.set(labels, indptr, indices, epoch=1, threshold=0.7)
    losses = run_loss(model, make_batch())
    reid_keys = ['loss_scale', 'loss_cluster', 'loss_dml_instance',
                 'loss_dml_exemplar']
    for key in reid_keys:
        assert key in losses and torch.isfinite(losses[key]), key
    conv = model.backbone.conv1.weight
    for key in reid_keys:
        model.zero_grad()
        losses[key].backward(retain_graph=True)
        assert conv.grad is not None and conv.grad.abs().sum() > 0, key


def test_masks_change_exemplars_and_none_means_unmasked():
    model = build_model().eval()
    batch = make_batch()
    data = model.data_preprocessor(batch, True)
    inputs = data['inputs']
    boxes = [get_box_tensor(s.gt_instances.bboxes) for s in data["data_samples"]]
    full = [torch.ones(len(b), 96, 128) for b in boxes]
    half = [m.clone() for m in full]
    for m in half:
        m[:, :, :64] = 0
    with torch.no_grad():
        unmasked = model.embed_exemplars(inputs, boxes, [None, None])
        ones = model.embed_exemplars(inputs, boxes, full)
        masked = model.embed_exemplars(inputs, boxes, half)
    assert unmasked.shape == (5, 3, 32)  # original + 2 scales
    assert torch.allclose(unmasked, ones, atol=1e-5)
    assert not torch.allclose(unmasked, masked, atol=1e-3)


def test_predict_detects_and_embeds_without_exemplar_branch(monkeypatch):
    model = build_model().eval()

    def forbidden(*args, **kwargs):
        raise AssertionError('exemplar branch used at test time')

    monkeypatch.setattr(model, 'embed_exemplars', forbidden)
    data = model.data_preprocessor(make_batch(), False)
    with torch.no_grad():
        results = model(**data, mode='predict')
    for res in results:
        pred = res.pred_instances
        assert pred.embeddings.shape == (len(pred.bboxes), 32)
        if len(pred.bboxes):
            norms = pred.embeddings.norm(dim=1)
            assert torch.allclose(norms, torch.ones_like(norms), atol=1e-4)


def test_query_records_embed_their_box():
    model = build_model().eval()
    batch = make_batch(is_query=True)
    for sample in batch['data_samples']:
        sample.set_metainfo(dict(scale_factor=(2.0, 2.0)))
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        results = model(**data, mode='predict')
    first = results[0].pred_instances
    assert first.bboxes.shape == (2, 4)
    # boxes come back in original coordinates (divided by the scale factor)
    assert torch.allclose(first.bboxes[0], torch.tensor([5., 4., 20., 40.]))
    assert torch.allclose(first.scores, torch.ones(2))
    # the embedding is the main branch's embedding of that box
    x = model.extract_feat(data['inputs'])
    with torch.no_grad():
        direct = model.embed_instances(
            tuple(level[:1] for level in x),
            [get_box_tensor(data["data_samples"][0].gt_instances.bboxes)])
    assert torch.allclose(first.embeddings, direct, atol=1e-5)


def test_empty_memory_is_a_clear_error():
    init_default_scope('mmdet')
    model = MODELS.build(tiny_ssl_config('unused', 'unused').model).train()
    with pytest.raises(RuntimeError, match='MemoryBankHook'):
        run_loss(model, make_batch())


def test_detection_only_model_leaves_queries_empty():
    init_default_scope('mmdet')
    cfg = tiny_ssl_config('unused', 'unused', config='faster-rcnn_r18c16-c4_6e_synthps.py')
    model = MODELS.build(cfg.model).eval()
    batch = make_batch(is_query=True)
    batch['data_samples'][1].set_metainfo(dict(is_query=False))
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        results = model(**data, mode='predict')
    assert len(results[0].pred_instances) == 0
    assert 'embeddings' not in results[1].pred_instances


def test_exemplar_branch_leaves_running_statistics_alone():
    model = build_model().train()
    data = model.data_preprocessor(make_batch(), True)
    boxes = [get_box_tensor(s.gt_instances.bboxes) for s in data['data_samples']]
    # the backbone keeps its (pretrained) statistics: its batch norms are frozen
    assert not model.backbone.bn1.training
    norm = model.roi_head.embedding_head.norm
    before = norm.running_mean.clone()
    model.embed_exemplars(data['inputs'], boxes, [None, None])
    assert torch.equal(norm.running_mean, before)
    model.embed_instances(model.extract_feat(data['inputs']), boxes)
    assert not torch.equal(norm.running_mean, before)
