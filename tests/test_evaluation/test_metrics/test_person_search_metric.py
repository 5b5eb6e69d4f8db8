"""End-to-end tests of PersonSearchMetric on hand-built DetDataSamples.

World (original pixels; the query feature is [1, 0], a detection [s, sqrt(1-s^2)]
has similarity s; ``score`` is the detection score):

* g0.jpg, cam 1: person 7 (PERSON) and an unlabelled person (ELSEWHERE, id -2); dets
  PERSON (sim .99, score .9), ELSEWHERE (sim .5, score .8).
* g1.jpg, cam 1: person 7; dets PERSON (sim .6, score .9), ELSEWHERE (sim .95, score .92).
* g2.jpg, cam 2: persons 7 and 9 (ELSEWHERE); dets PERSON (sim .8, score .95),
  ELSEWHERE (sim .7, score .3: dropped from the search).
* query 0: person 7 in g0.jpg (cam 1); query 1: person 9, small box in q1.jpg (cam 3).

single_view: q0 ranks .95 F, .8 T, .6 T -> AP 7/12, rank 2; q1's only match was dropped
-> AP 0. mAP 7/24, top1 0, top5 0.5. multi_view: q0 sees g2 only -> AP 1, rank 1;
q1 AP 0. mAP 0.5, top1 0.5.

Detection, SeqNet's rule (score >= .01, every detection matches its box): 5 boxes,
ranked .95 T, .92 F, .9 T, .9 T, .8 T, .3 T -> recall 1, AP (scikit-learn, tied .9 one
threshold) 1/5 + 2/5 * 3/4 + 1/5 * 4/5 + 1/5 * 5/6. Labelled only: 4 boxes, the
detection on g0's unlabelled person (.8) is a false positive -> recall 1, AP
1/4 + 2/4 * 3/4 + 1/4 * 4/6.
"""
import pickle

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmssl.evaluation.metrics import PersonSearchMetric

PERSON = [0.0, 0.0, 50.0, 100.0]
ELSEWHERE = [200.0, 200.0, 250.0, 300.0]
Q1_BOX = [300.0, 300.0, 320.0, 350.0]  # 1,000 px²: small; its match is medium
PROTOCOL = dict(
    gallery_img_ids=['g0.jpg', 'g1.jpg', 'g2.jpg'],
    queries=[dict(img_id='g0.jpg', cam_id=1, person_id=7, bbox=PERSON),
             dict(img_id='q1.jpg', cam_id=3, person_id=9, bbox=Q1_BOX)],
    galleries=dict(
        single_view=dict(gallery=None, exclude_same_camera=False, positives=None),
        multi_view=dict(gallery=None, exclude_same_camera=True, positives=None)),
    default='single_view')
GALLERY = {
    'g0.jpg': dict(cam=1, gts=[(PERSON, 7), (ELSEWHERE, -2)],
                   dets=[(PERSON, 0.99, 0.9), (ELSEWHERE, 0.5, 0.8)]),
    'g1.jpg': dict(cam=1, gts=[(PERSON, 7)],
                   dets=[(PERSON, 0.6, 0.9), (ELSEWHERE, 0.95, 0.92)]),
    'g2.jpg': dict(cam=2, gts=[(PERSON, 7), (ELSEWHERE, 9)],
                   dets=[(PERSON, 0.8, 0.95), (ELSEWHERE, 0.7, 0.3)]),
}


def feat(sim):
    return [sim, float(np.sqrt(1 - sim ** 2))]


def make_sample(img_id, cam, gts, dets, scale=0.5, gt_space='original', is_query=False,
                query_index=-1, embeddings=True, box_type=torch.Tensor):
    sample = DetDataSample(metainfo=dict(
        img_id=img_id, cam_id=cam, is_query=is_query, query_index=query_index,
        scale_factor=(scale, scale), ori_shape=(480, 640),
        img_shape=(int(480 * scale), int(640 * scale))))
    gt_boxes = torch.tensor([g[0] for g in gts]).reshape(-1, 4)
    if gt_space == 'resized':
        gt_boxes = gt_boxes * scale
    sample.gt_instances = InstanceData(
        bboxes=HorizontalBoxes(gt_boxes) if box_type is HorizontalBoxes else gt_boxes,
        labels=torch.zeros(len(gts), dtype=torch.long),
        person_ids=torch.tensor([g[1] for g in gts], dtype=torch.long))
    pred = InstanceData(bboxes=torch.tensor([d[0] for d in dets]).reshape(-1, 4),
                        scores=torch.tensor([d[2] for d in dets]).reshape(-1),
                        labels=torch.zeros(len(dets), dtype=torch.long))
    if embeddings:
        pred.embeddings = torch.tensor([feat(d[1]) for d in dets]).reshape(-1, 2)
    sample.pred_instances = pred
    return sample


def all_samples(**kwargs):
    samples = [make_sample(img_id, g['cam'], g['gts'], g['dets'], **kwargs)
               for img_id, g in GALLERY.items()]
    for index, query in enumerate(PROTOCOL['queries']):
        samples.append(make_sample(
            query['img_id'], query['cam_id'], [(query['bbox'], query['person_id'])],
            [(query['bbox'], 1.0, 1.0)], is_query=True, query_index=index, **kwargs))
    return samples


def run_metric(samples, protocol=PROTOCOL, batch=2, **metric_kwargs):
    evaluator = Evaluator(METRICS.build(dict(type='PersonSearchMetric', **metric_kwargs)))
    meta = dict(classes=('person', ))
    if protocol is not None:
        meta['search_protocol'] = protocol
    evaluator.dataset_meta = meta
    for start in range(0, len(samples), batch):
        evaluator.process(data_samples=samples[start:start + batch], data_batch=None)
    return evaluator.evaluate(len(samples))


EXPECTED = {
    'search/mAP': 7 / 24, 'search/top1': 0.0, 'search/top5': 0.5, 'search/top10': 0.5,
    'search/multi_view/mAP': 0.5, 'search/multi_view/top1': 0.5,
    'search/multi_view/top5': 0.5, 'search/multi_view/top10': 0.5,
}
DETECTION = {
    'search/det_ap': 1 / 5 + 2 / 5 * 3 / 4 + 1 / 5 * 4 / 5 + 1 / 5 * 5 / 6,
    'search/det_recall': 1.0,
    'search/det_labelled_ap': 1 / 4 + 2 / 4 * 3 / 4 + 1 / 4 * 4 / 6,
    'search/det_labelled_recall': 1.0,
}
EXPECTED.update(DETECTION)


def test_registered_in_mmdet_metrics():
    assert METRICS.get('PersonSearchMetric') is PersonSearchMetric


@pytest.mark.parametrize('gt_space', ['original', 'resized'])
def test_end_to_end_hand_values_with_auto_gt_coordinates(gt_space):
    metrics = run_metric(all_samples(gt_space=gt_space, box_type=HorizontalBoxes))
    assert metrics == pytest.approx(EXPECTED)


def test_forced_gt_coordinates_are_used():
    # packed boxes in original pixels read as resized ones: everything doubles in size
    metrics = run_metric(all_samples(gt_space='original'), gt_coords='resized')
    assert metrics['search/det_recall'] == 0.0 and metrics['search/mAP'] == 0.0
    assert run_metric(all_samples(gt_space='resized'), gt_coords='resized') == \
        pytest.approx(EXPECTED)
    assert run_metric(all_samples(gt_space='original'), gt_coords='original') == \
        pytest.approx(EXPECTED)


def test_raw_instances_take_precedence_over_packed_boxes():
    samples = all_samples(gt_space='resized')
    for sample in samples:
        boxes = sample.gt_instances.bboxes / 0.5
        sample.set_metainfo(dict(instances=[
            dict(bbox=b.tolist(), person_id=int(p), ignore_flag=0)
            for b, p in zip(boxes, sample.gt_instances.person_ids)]))
    assert run_metric(samples, gt_coords='original') == pytest.approx(EXPECTED)


def test_cross_scale_breakdown_and_protocol_selection():
    metrics = run_metric(all_samples(), cross_scale=True, protocols=['single_view'],
                         prefix='ps')
    # q0 (medium box, medium match) is same-scale; q1 (small box, medium match) cross
    assert metrics == pytest.approx({
        'ps/mAP': 7 / 24, 'ps/top1': 0.0, 'ps/top5': 0.5, 'ps/top10': 0.5,
        'ps/cross_scale/mAP': 0.0, 'ps/cross_scale/top1': 0.0,
        'ps/cross_scale/num_queries': 1,
        'ps/same_scale/mAP': 7 / 12, 'ps/same_scale/top1': 0.0,
        'ps/same_scale/num_queries': 1,
        **{k.replace('search/', 'ps/'): v for k, v in DETECTION.items()}})
    with pytest.raises(ValueError, match="protocol 'gallery_100' not in"):
        run_metric(all_samples(), protocols='gallery_100')


def test_explicit_protocol_as_default():
    # CUHK-style: q0 searches g2 only (hit at rank 1), q1 searches g0 and g2 (its only
    # match was dropped): mAP 0.5, top1 0.5; the PRW-style protocol gets a suffix.
    protocol = dict(PROTOCOL, default='gallery_2', galleries=dict(
        PROTOCOL['galleries'],
        gallery_2=dict(gallery=[np.array([2]), np.array([0, 2])], exclude_same_camera=False,
                       positives=[{2: PERSON}, {2: ELSEWHERE}])))
    metrics = run_metric(all_samples(), protocol=protocol,
                         protocols=['gallery_2', 'single_view'], topk=(1, ))
    assert metrics == pytest.approx({
        'search/mAP': 0.5, 'search/top1': 0.5,
        'search/single_view/mAP': 7 / 24, 'search/single_view/top1': 0.0,
        **DETECTION})


def test_detection_only_without_embeddings_or_protocol():
    assert run_metric(all_samples(embeddings=False)) == pytest.approx(DETECTION)
    gallery_only = [s for s in all_samples() if not s.is_query]
    assert run_metric(gallery_only, protocol=None) == pytest.approx(DETECTION)


def test_search_and_detection_thresholds_are_separate():
    # search at 0.25: the g2 ELSEWHERE detection (sim .7, score .3) stays: q0 ranks
    # .95 F, .8 T, .7 F, .6 T (AP 1/2); q1 finds its person at rank 4 (.99, .95, .8,
    # .7: AP 1/4). The detection figures do not move.
    metrics = run_metric(all_samples(), score_thr=0.25)
    assert metrics['search/mAP'] == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert {k: metrics[k] for k in DETECTION} == pytest.approx(DETECTION)
    # detection at 0.5: .95 T, .92 F, .9 T, .9 T, .8 T over 5 boxes
    at_half = run_metric(all_samples(), det_score_thr=0.5)
    assert at_half['search/det_recall'] == pytest.approx(0.8)
    assert at_half['search/det_ap'] == pytest.approx((1 / 4 + 2 / 4 * 3 / 4 + 1 / 4 * 4 / 5)
                                                     * 0.8)
    assert at_half['search/mAP'] == pytest.approx(EXPECTED['search/mAP'])
    # MMDetection's figures: VOC all-point AP .2 + .2 * .8 * 3
    voc = run_metric(all_samples(), det_score_thr=0.5, det_method='voc')
    assert voc['search/det_ap'] == pytest.approx(0.68)
    assert voc['search/det_recall'] == pytest.approx(0.8)
    with pytest.raises(ValueError, match='det_method'):
        PersonSearchMetric(det_method='coco')


def test_results_are_picklable_numpy_and_float16_halves_features():
    metric = PersonSearchMetric(feat_dtype='float16')
    metric.dataset_meta = dict(search_protocol=PROTOCOL)
    metric.process(None, [s.to_dict() for s in all_samples()])
    record = metric.results[0]
    assert record['feats'].dtype == np.float16 and isinstance(record['boxes'], np.ndarray)
    restored = pickle.loads(pickle.dumps(metric.results))
    prefixed = {f'search/{k}': v for k, v in metric.compute_metrics(restored).items()}
    assert prefixed == pytest.approx(EXPECTED, abs=1e-3)


def test_missing_query_and_padding_duplicates():
    samples = all_samples()
    without_q1 = samples[:-1] + [samples[0]]  # q1 absent, g0 duplicated (padding)
    metrics = run_metric(without_q1)
    assert metrics['search/mAP'] == pytest.approx(7 / 12)
    assert metrics['search/multi_view/mAP'] == pytest.approx(1.0)


def test_bad_results_are_named():
    stranger = make_sample('zz.jpg', 1, [], [(PERSON, 0.5, 0.9)])
    with pytest.raises(ValueError, match="'zz.jpg' is not in"):
        run_metric(all_samples() + [stranger])
    bad_query = make_sample('q9.jpg', 1, [], [(PERSON, 0.5, 0.9)], is_query=True,
                            query_index=5)
    with pytest.raises(ValueError, match="'q9.jpg' has query_index 5"):
        run_metric(all_samples() + [bad_query])
    with pytest.raises(ValueError, match='gt_coords'):
        PersonSearchMetric(gt_coords='pixels')


@pytest.mark.parametrize('annotations_first', [False, True])
@pytest.mark.parametrize('dataset_type', ['PRWDataset', 'CUHKSYSUDataset'])
def test_oracle_predictions_on_tiny_datasets_score_one(tmp_path, dataset_type,
                                                       annotations_first):
    """The metric reads the real datasets' protocol and packed samples: predictions
    equal to the ground truth, with one-hot person features, score 1 everywhere."""
    from mmengine.registry import DATASETS, init_default_scope

    from mmssl.testing import write_tiny_cuhk_root, write_tiny_prw_root
    init_default_scope('mmdet')
    writer = write_tiny_prw_root if dataset_type == 'PRWDataset' else write_tiny_cuhk_root
    root = writer(str(tmp_path))['root']
    load = dict(type='LoadPersonSearchAnnotations', with_bbox=True)
    resize = dict(type='Resize', scale=(48, 32), keep_ratio=True)
    pipeline = [dict(type='LoadImageFromFile')]
    pipeline += [load, resize] if annotations_first else [resize, load]
    pipeline.append(dict(type='PackPersonSearchInputs'))
    dataset = DATASETS.build(dict(type=dataset_type, data_root=root, split='test',
                                  test_mode=True, pipeline=pipeline))
    samples = []
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        instances = dataset.get_data_info(index)['instances']
        pids = [ins['person_id'] for ins in instances]
        embeddings = torch.zeros(len(pids), 64)
        for row, pid in enumerate(pids):
            embeddings[row, pid % 64 if pid >= 0 else 63 - row] = 1.0
        sample.pred_instances = InstanceData(
            bboxes=torch.tensor([ins['bbox'] for ins in instances]).reshape(-1, 4),
            scores=torch.ones(len(pids)), labels=torch.zeros(len(pids), dtype=torch.long),
            embeddings=embeddings)
        samples.append(sample)
    metrics = run_metric(samples, protocol=dataset.metainfo['search_protocol'], batch=4)
    assert metrics['search/mAP'] == 1.0 and metrics['search/top1'] == 1.0
    assert metrics['search/det_ap'] == pytest.approx(1.0)
    assert metrics['search/det_recall'] == 1.0
    # the detections of unlabelled persons are false positives when only the labelled
    # persons count
    assert metrics['search/det_labelled_recall'] == 1.0
    unlabelled = sum(inst['person_id'] < 0 for i in range(len(dataset))
                     if not dataset.get_data_info(i)['is_query']
                     for inst in dataset.get_data_info(i)['instances'])
    assert unlabelled > 0 and metrics['search/det_labelled_ap'] < 1.0
    assert len(metrics) == 4 + 4 * len(dataset.metainfo['search_protocol']['galleries'])


def test_confidence_weighted_similarity_ranks_by_cosine_times_score():
    """SeqNet's CWS: g1's distractor (cosine .95) scores .55, so .95 * .55 falls
    below the true matches .8 * .95 (g2) and .6 * .9 (g1): q0's AP becomes 1."""
    samples = all_samples()
    g1 = samples[1]
    assert g1.img_id == 'g1.jpg'
    g1.pred_instances.scores = torch.tensor([0.9, 0.55])
    plain = run_metric(samples)
    weighted = run_metric(samples, confidence_weighted=True)
    assert plain['search/mAP'] == pytest.approx(7 / 24)
    assert plain['search/top1'] == 0.0
    assert weighted['search/mAP'] == pytest.approx(0.5)  # q0 AP 1, q1 AP 0
    assert weighted['search/top1'] == pytest.approx(0.5)
    # detection figures do not depend on the ranking of the search
    assert weighted['search/det_ap'] == pytest.approx(plain['search/det_ap'])
