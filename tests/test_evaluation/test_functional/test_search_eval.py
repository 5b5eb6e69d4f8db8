"""Tests of mmssl.evaluation.functional.search_eval (person-search mAP / top-k).

Hand cases use 2-d features: the query feature is [1, 0] and a detection with feature
[s, sqrt(1 - s^2)] has similarity s. The last test compares against a direct loop-based
transcription of the community protocol (SeqNet/NAE/CGPS eval_func.py).
"""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from mmssl.evaluation.functional import (SearchGallery, SearchQueries, box_scale_class,
                                         cross_scale_query_mask, evaluate_search,
                                         search_iou_threshold)

PERSON = [0, 0, 50, 100]
ELSEWHERE = [200, 200, 250, 300]
SINGLE = dict(gallery=None, exclude_same_camera=False, positives=None)


def feat(sim):
    return [sim, np.sqrt(1 - sim ** 2)]


def make_gallery(images, cam_ids=None):
    """images: list of dict(dets=[(box, sim, score)], gts=[(box, pid)])."""
    return SearchGallery.from_per_image(
        det_boxes=[np.array([d[0] for d in im['dets']], float).reshape(-1, 4) for im in images],
        det_scores=[np.array([d[2] if len(d) > 2 else 1.0 for d in im['dets']])
                    for im in images],
        det_feats=[np.array([feat(d[1]) for d in im['dets']], float).reshape(-1, 2)
                   for im in images],
        gt_boxes=[np.array([g[0] for g in im.get('gts', [])], float).reshape(-1, 4)
                  for im in images],
        gt_person_ids=[np.array([g[1] for g in im.get('gts', [])], int) for im in images],
        cam_ids=cam_ids)


def make_queries(num, img_inds=None, cam_ids=None, person_ids=None):
    return SearchQueries(feats=np.tile([[1.0, 0.0]], (num, 1)),
                         img_inds=[-1] * num if img_inds is None else img_inds,
                         cam_ids=[-1] * num if cam_ids is None else cam_ids,
                         person_ids=[7] * num if person_ids is None else person_ids)


def test_small_box_iou_threshold():
    assert search_iou_threshold(10, 20) == pytest.approx(200 / (20 * 30))
    assert search_iou_threshold(100, 200) == 0.5
    np.testing.assert_allclose(search_iou_threshold(np.array([10, 100]), np.array([20, 200])),
                               [1 / 3, 0.5])


def test_only_best_ranked_overlapping_detection_of_an_image_is_a_hit():
    gallery = make_gallery([
        dict(dets=[(PERSON, 0.6), ([0, 0, 50, 90], 0.8), (ELSEWHERE, 0.9)],
             gts=[(PERSON, 7), (ELSEWHERE, 3)]),
        dict(dets=[(ELSEWHERE, 0.7)], gts=[(ELSEWHERE, 3)]),
    ])
    result = evaluate_search(gallery, make_queries(1), SINGLE)
    # ranked: 0.9 F, 0.8 T (best of image 0), 0.7 F, 0.6 F (exact box, not best ranked)
    expected = average_precision_score([0, 1, 0, 0], [0.9, 0.8, 0.7, 0.6])
    assert expected == pytest.approx(0.5)
    assert result.ap[0] == pytest.approx(expected)
    assert result.first_hit_rank[0] == 2
    assert result.num_hits[0] == 1 and result.num_positive_images[0] == 1
    assert result.summary() == pytest.approx(dict(mAP=0.5, top1=0.0, top5=1.0, top10=1.0,
                                                  num_queries=1))


def test_tied_similarities_form_one_threshold_and_rank_hits_last():
    # two hits and one non-hit tied at 0.8: one threshold, precision 2/3, recall 1
    gallery = make_gallery([
        dict(dets=[(PERSON, 0.8)], gts=[(PERSON, 7)]),
        dict(dets=[(PERSON, 0.8)], gts=[(PERSON, 7)]),
        dict(dets=[(ELSEWHERE, 0.8), (PERSON, 0.5)], gts=[(ELSEWHERE, 1), (PERSON, 2)]),
    ])
    result = evaluate_search(gallery, make_queries(1), SINGLE)
    expected = average_precision_score([1, 1, 0, 0], [0.8, 0.8, 0.8, 0.5])
    assert expected == pytest.approx(2 / 3)
    assert result.ap[0] == pytest.approx(expected)
    # pessimistic tie rule: the tied non-hit ranks first
    assert result.first_hit_rank[0] == 2
    assert result.summary()['top1'] == 0.0


def test_tied_hits_alone_at_the_top_are_a_top1_hit():
    gallery = make_gallery([
        dict(dets=[(PERSON, 0.8)], gts=[(PERSON, 7)]),
        dict(dets=[(PERSON, 0.8)], gts=[(PERSON, 7)]),
        dict(dets=[(ELSEWHERE, 0.5)], gts=[]),
    ])
    result = evaluate_search(gallery, make_queries(1), SINGLE)
    assert result.ap[0] == pytest.approx(1.0)
    assert result.first_hit_rank[0] == 1


def test_small_box_rule_decides_hits():
    small = [0, 0, 10, 20]  # threshold 1/3
    big = [0, 0, 100, 200]  # threshold 0.5
    gallery = make_gallery([
        dict(dets=[([0, 0, 10, 8], 0.9)], gts=[(small, 7)]),     # IoU 0.40 >= 1/3: hit
        dict(dets=[([0, 0, 10, 6], 0.8)], gts=[(small, 7)]),     # IoU 0.30: miss
        dict(dets=[([0, 0, 100, 90], 0.7)], gts=[(big, 7)]),     # IoU 0.45 < 0.5: miss
    ])
    result = evaluate_search(gallery, make_queries(1), SINGLE)
    assert result.num_hits[0] == 1 and result.num_positive_images[0] == 3
    assert result.ap[0] == pytest.approx(1.0 * 1 / 3)


def test_detections_under_the_score_threshold_are_dropped():
    gallery = make_gallery([
        dict(dets=[(PERSON, 0.5, 0.9)], gts=[(PERSON, 7)]),
        dict(dets=[(ELSEWHERE, 0.95, 0.49)], gts=[]),            # dropped non-hit
        dict(dets=[(PERSON, 0.9, 0.3), (ELSEWHERE, 0.4, 0.5)],   # dropped would-be hit
             gts=[(PERSON, 7)]),
    ])
    result = evaluate_search(gallery, make_queries(1), SINGLE)
    # ranked: 0.5 T (image 0), 0.4 F; image 2 holds the person but has no hit
    assert result.num_positive_images[0] == 2 and result.num_hits[0] == 1
    assert result.ap[0] == pytest.approx(1.0 * 1 / 2)
    assert result.first_hit_rank[0] == 1
    lenient = evaluate_search(gallery, make_queries(1), SINGLE, score_thr=0.0)
    assert lenient.first_hit_rank[0] == 2  # the 0.95 non-hit now ranks first
    assert lenient.ap[0] == pytest.approx(average_precision_score(
        [0, 1, 1, 0], [0.95, 0.9, 0.5, 0.4]))


def test_query_without_gallery_match_is_skipped():
    gallery = make_gallery([
        dict(dets=[(PERSON, 0.9)], gts=[(PERSON, 7)]),   # query 1's own image
        dict(dets=[(PERSON, 0.6)], gts=[(PERSON, 8)]),
        dict(dets=[(PERSON, 0.7)], gts=[(PERSON, 9)]),
    ])
    # query 0: person 8 at rank 3 (AP 1/3); query 1: person 7 only in its own image
    # (skipped; its gallery is images 1, 2); query 2: person 5 nowhere (skipped);
    # query 3: person 9 at rank 2 (AP 1/2).
    queries = make_queries(4, img_inds=[-1, 0, -1, -1], person_ids=[8, 7, 5, 9])
    result = evaluate_search(gallery, queries, SINGLE)
    assert result.num_skipped == 2
    np.testing.assert_array_equal(result.evaluated, [True, False, False, True])
    assert np.isnan(result.ap[1]) and np.isnan(result.ap[2])
    np.testing.assert_array_equal(result.first_hit_rank[[0, 3]], [3, 2])
    assert result.summary() == pytest.approx(dict(mAP=5 / 12, top1=0.0, top5=1.0,
                                                  top10=1.0, num_queries=2))
    subset = evaluate_search(gallery, queries, SINGLE, query_inds=[0])
    assert subset.summary()['num_queries'] == 1 and np.isnan(subset.ap[3])
    nobody = evaluate_search(gallery, make_queries(1, person_ids=[-2]), SINGLE)
    assert nobody.num_skipped == 1 and np.isnan(nobody.summary()['mAP'])


def test_multi_view_excludes_the_query_camera():
    gallery = make_gallery([
        dict(dets=[(PERSON, 0.99)], gts=[(PERSON, 7)]),       # query image, cam 1
        dict(dets=[(PERSON, 0.9), (ELSEWHERE, 0.95)],          # cam 1
             gts=[(PERSON, 7), (ELSEWHERE, 2)]),
        dict(dets=[(PERSON, 0.6), (ELSEWHERE, 0.7)],           # cam 2
             gts=[(PERSON, 7), (ELSEWHERE, 3)]),
        dict(dets=[(ELSEWHERE, 0.8)], gts=[(ELSEWHERE, 4)]),   # cam 2, person absent
    ], cam_ids=[1, 1, 2, 2])
    queries = make_queries(1, img_inds=[0], cam_ids=[1])
    single = evaluate_search(gallery, queries, SINGLE)
    # images 1-3: 0.95 F, 0.9 T, 0.8 F, 0.7 F, 0.6 T
    assert single.num_positive_images[0] == 2
    assert single.ap[0] == pytest.approx(average_precision_score(
        [0, 1, 0, 0, 1], [0.95, 0.9, 0.8, 0.7, 0.6]))
    multi = evaluate_search(gallery, queries, dict(SINGLE, exclude_same_camera=True))
    # images 2-3 only: 0.8 F, 0.7 F, 0.6 T
    assert multi.num_positive_images[0] == 1
    assert multi.ap[0] == pytest.approx(1 / 3)
    assert multi.first_hit_rank[0] == 3


def test_explicit_cuhk_style_galleries_and_positives():
    gallery = make_gallery([
        dict(dets=[(PERSON, 0.9)]),                        # 0: outside both galleries
        dict(dets=[(PERSON, 0.7), (ELSEWHERE, 0.8)]),      # 1
        dict(dets=[(ELSEWHERE, 0.75)]),                    # 2
        dict(dets=[]),                                     # 3: positive, nothing detected
        dict(dets=[([0, 0, 50, 60], 0.85)]),               # 4: positive, IoU 0.6
    ])
    protocol = dict(
        gallery=[np.array([1, 2, 3]), np.array([1, 2, 4, 4])],
        exclude_same_camera=False,
        positives=[{1: PERSON, 3: PERSON}, {4: PERSON, 0: PERSON}])
    result = evaluate_search(gallery, make_queries(2), protocol, name='gallery_3')
    # query 0: 0.8 F, 0.75 F, 0.7 T; two positive images (3 has no detection)
    assert result.num_positive_images[0] == 2 and result.num_hits[0] == 1
    assert result.ap[0] == pytest.approx(1 / 3 * 1 / 2)
    assert result.first_hit_rank[0] == 3
    # query 1: positive image 0 is not in its gallery; 0.85 T, 0.8 F, 0.75 F, 0.7 F
    assert result.num_positive_images[1] == 1
    assert result.ap[1] == pytest.approx(1.0) and result.first_hit_rank[1] == 1
    # full gallery (every image but the query's own) with the same positives
    full = evaluate_search(gallery, make_queries(2, img_inds=[4, 4]),
                           dict(protocol, gallery=None))
    # query 0 now also sees image 0's 0.9 (not a positive of query 0)
    assert full.ap[0] == pytest.approx(average_precision_score(
        [0, 0, 0, 1], [0.9, 0.8, 0.75, 0.7]) / 2)
    # query 1: its own image 4 is out; positive image 0 is in: 0.9 T
    assert full.num_positive_images[1] == 1 and full.ap[1] == pytest.approx(1.0)


def test_protocol_errors_name_protocol_and_query():
    gallery = make_gallery([dict(dets=[(PERSON, 0.9)])])
    queries = make_queries(2)
    with pytest.raises(ValueError, match="'g50', query 1: gallery index 5"):
        evaluate_search(gallery, queries, dict(gallery=[[0], [5]], positives=[{}, {}]),
                        name='g50')
    with pytest.raises(ValueError, match="'g50', query 0: positive index -1"):
        evaluate_search(gallery, queries, dict(gallery=None, positives=[{-1: PERSON}, {}]),
                        name='g50')
    with pytest.raises(ValueError, match='positives has 1 entries for 2 queries'):
        evaluate_search(gallery, queries, dict(positives=[{}]))
    with pytest.raises(ValueError, match='unknown keys'):
        evaluate_search(gallery, queries, dict(galery=None))
    with pytest.raises(ValueError, match="query 0: positive boxes"):
        evaluate_search(gallery, queries, dict(positives=[{0: [1, 2, 3]}, {}]))


def test_gallery_input_errors_name_the_image():
    with pytest.raises(ValueError, match='image 1 has 1 boxes, 2 scores'):
        SearchGallery.from_per_image([np.zeros((0, 4)), np.zeros((1, 4))],
                                     [np.zeros(0), np.zeros(2)],
                                     [np.zeros((0, 2)), np.zeros((1, 2))],
                                     [np.zeros((0, 4))] * 2, [np.zeros(0)] * 2)
    with pytest.raises(ValueError, match='det_img_inds\\[0\\] = 3'):
        SearchGallery(cam_ids=[0], det_boxes=np.zeros((1, 4)), det_scores=[1.0],
                      det_feats=np.zeros((1, 2)), det_img_inds=[3],
                      gt_boxes=np.zeros((0, 4)), gt_person_ids=[], gt_img_inds=[])


def test_scale_classes_follow_the_paper():
    boxes = np.array([[0, 0, 30, 119], [0, 0, 30, 120], [0, 0, 151, 300], [0, 0, 152, 300]])
    np.testing.assert_array_equal(box_scale_class(boxes), [0, 1, 1, 2])
    cross, same = cross_scale_query_mask(
        boxes[:3], [boxes[[0]], boxes[[1, 2]], np.zeros((0, 4))])
    np.testing.assert_array_equal(cross, [False, False, False])
    np.testing.assert_array_equal(same, [True, True, False])
    cross, same = cross_scale_query_mask(boxes[[3, 0]], [boxes[[3, 0]], boxes[[0]]])
    np.testing.assert_array_equal(cross, [True, False])
    np.testing.assert_array_equal(same, [False, True])


# --------------------------------------------------------------------------------------
# Direct loop transcription of the reference protocol (eval_search_prw / _cuhk).


def _iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def reference_search(images, query_list, protocol, det_thresh=0.5, topk=(1, 5, 10)):
    """images: dicts boxes/scores/feats/gt_boxes/pids/cam; query_list: dicts
    feat/img/cam/pid. Returns (aps, accs) of the non-skipped queries, by query."""
    kept = {}
    for g, im in enumerate(images):
        keep = im['scores'] >= det_thresh
        if keep.any():
            kept[g] = (im['boxes'][keep], im['feats'][keep])
    aps, accs = {}, {}
    for i, q in enumerate(query_list):
        if protocol['gallery'] is None:
            gallery_imgs = [g for g in range(len(images)) if g != q['img']]
        else:
            gallery_imgs = list(dict.fromkeys(int(g) for g in protocol['gallery'][i]))
        if protocol['exclude_same_camera']:
            gallery_imgs = [g for g in gallery_imgs if images[g]['cam'] != q['cam']]
        if protocol['positives'] is None:
            gts = {g: images[g]['gt_boxes'][images[g]['pids'] == q['pid']][0]
                   for g in gallery_imgs if q['pid'] in images[g]['pids']}
        else:
            gts = {g: np.asarray(b) for g, b in protocol['positives'][i].items()
                   if g in gallery_imgs}
        count_gt, count_tp = 0, 0
        y_true, y_score = [], []
        for g in gallery_imgs:
            count_gt += g in gts
            if g not in kept:
                continue
            det, feat_g = kept[g]
            sim = feat_g.dot(q['feat']).ravel()
            label = np.zeros(len(sim), dtype=np.int32)
            if g in gts:
                gt = gts[g]
                w, h = gt[2] - gt[0], gt[3] - gt[1]
                iou_thresh = min(0.5, (w * h * 1.0) / ((w + 10) * (h + 10)))
                inds = np.argsort(sim)[::-1]
                sim, det = sim[inds], det[inds]
                for j, roi in enumerate(det[:, :4]):
                    if _iou(roi, gt) >= iou_thresh:
                        label[j] = 1
                        count_tp += 1
                        break
            y_true.extend(list(label))
            y_score.extend(list(sim))
        if count_gt == 0:
            continue  # skipped (the reference would divide 0 by 0)
        y_score, y_true = np.asarray(y_score), np.asarray(y_true)
        recall_rate = count_tp / count_gt
        aps[i] = 0 if count_tp == 0 else average_precision_score(y_true, y_score) * recall_rate
        inds = np.argsort(y_score)[::-1]
        accs[i] = [min(1, sum(y_true[inds][:k])) for k in topk]
    return aps, accs


def _random_world(rng, num_images=60, num_pids=12, dim=16):
    identity = rng.normal(size=(num_pids, dim))
    images = []
    for _ in range(num_images):
        m = int(rng.integers(0, 5))
        pids = rng.choice(num_pids, m, replace=False)
        w = rng.uniform(4, 80, m)
        h = w * rng.uniform(1.5, 3, m)
        xy = rng.uniform(0, 300, (m, 2))
        gt = np.hstack([xy, xy + np.stack([w, h], 1)])
        src = rng.integers(0, max(m, 1), int(rng.integers(0, 8))) if m else np.zeros(0, int)
        boxes = gt[src] + rng.normal(0, 1, (len(src), 1)) * np.hstack(
            [w[src, None], h[src, None], w[src, None], h[src, None]]) * 0.15
        feats = identity[pids[src]] + rng.normal(0, 1.5, (len(src), dim))
        clutter = rng.uniform(0, 300, (int(rng.integers(0, 3)), 2))
        boxes = np.vstack([boxes, np.hstack([clutter, clutter + 40])])
        feats = np.vstack([feats, rng.normal(size=(len(clutter), dim))])
        feats /= np.linalg.norm(feats, axis=1, keepdims=True)
        images.append(dict(boxes=boxes, scores=rng.uniform(0.2, 1, len(boxes)),
                           feats=feats.astype(np.float32), gt_boxes=gt, pids=pids,
                           cam=int(rng.integers(1, 4))))
    return images, identity


def test_matches_reference_transcription_on_random_data():
    rng = np.random.default_rng(1)
    images, identity = _random_world(rng)
    gallery = SearchGallery.from_per_image(
        [im['boxes'] for im in images], [im['scores'] for im in images],
        [im['feats'] for im in images], [im['gt_boxes'] for im in images],
        [im['pids'] for im in images], [im['cam'] for im in images])
    # queries: ground-truth boxes of random images, features from the identity
    query_list = []
    for g in rng.permutation(len(images))[:40]:
        if len(images[g]['pids']):
            pid = int(images[g]['pids'][0])
            f = identity[pid] + rng.normal(0, 1.5, identity.shape[1])
            query_list.append(dict(feat=(f / np.linalg.norm(f)).astype(np.float32),
                                   img=int(g), cam=images[g]['cam'], pid=pid))
    queries = SearchQueries(np.stack([q['feat'] for q in query_list]),
                            [q['img'] for q in query_list], [q['cam'] for q in query_list],
                            [q['pid'] for q in query_list])
    num_q = len(query_list)
    explicit_gallery, explicit_pos = [], []
    for q in query_list:
        others = np.array([g for g in range(len(images)) if g != q['img']])
        with_person = [g for g in others if q['pid'] in images[g]['pids']]
        chosen = np.concatenate([with_person, rng.choice(others, 10, replace=False)])
        explicit_gallery.append(chosen.astype(int))
        explicit_pos.append({int(g): images[g]['gt_boxes'][images[g]['pids'] == q['pid']][0]
                             for g in with_person})
    protocols = dict(
        single_view=dict(gallery=None, exclude_same_camera=False, positives=None),
        multi_view=dict(gallery=None, exclude_same_camera=True, positives=None),
        explicit=dict(gallery=explicit_gallery, exclude_same_camera=False,
                      positives=explicit_pos),
        explicit_multi=dict(gallery=explicit_gallery, exclude_same_camera=True,
                            positives=explicit_pos),
        full_explicit_pos=dict(gallery=None, exclude_same_camera=False,
                               positives=explicit_pos))
    checked = 0
    for name, protocol in protocols.items():
        ours = evaluate_search(gallery, queries, protocol, name=name)
        aps, accs = reference_search(images, query_list, protocol)
        assert set(aps) == set(np.flatnonzero(ours.evaluated)), name
        assert ours.num_skipped == num_q - len(aps)
        for i in aps:
            assert ours.ap[i] == pytest.approx(aps[i], abs=1e-9), (name, i)
            np.testing.assert_array_equal(
                [ours.first_hit_rank[i] <= k for k in (1, 5, 10)], np.array(accs[i]) > 0)
        summary = ours.summary()
        assert summary['mAP'] == pytest.approx(np.mean(list(aps.values())))
        assert summary['top1'] == pytest.approx(np.mean([a[0] for a in accs.values()]))
        assert 0 < summary['mAP'] < 1
        checked += len(aps)
    assert checked > 100


def test_dense_and_gather_modes_agree(monkeypatch):
    from mmssl.evaluation.functional import search_eval
    rng = np.random.default_rng(2)
    images, identity = _random_world(rng, num_images=30)
    gallery = SearchGallery.from_per_image(
        [im['boxes'] for im in images], [im['scores'] for im in images],
        [im['feats'] for im in images], [im['gt_boxes'] for im in images],
        [im['pids'] for im in images], [im['cam'] for im in images])
    queries = SearchQueries(rng.normal(size=(8, identity.shape[1])), np.arange(8),
                            [im['cam'] for im in images[:8]],
                            [int(im['pids'][0]) if len(im['pids']) else -1
                             for im in images[:8]])
    protocol = dict(gallery=[rng.choice(30, 12, replace=False) for _ in range(8)],
                    exclude_same_camera=True, positives=None)
    monkeypatch.setattr(search_eval, '_GATHER_RATIO', 10 ** 9)  # always dense
    dense = evaluate_search(gallery, queries, protocol)
    monkeypatch.setattr(search_eval, '_GATHER_RATIO', 0)  # always gather
    gather = evaluate_search(gallery, queries, protocol)
    assert dense.evaluated.sum() > 2
    np.testing.assert_allclose(dense.ap, gather.ap, atol=1e-6)
    np.testing.assert_array_equal(dense.first_hit_rank, gather.first_hit_rank)
