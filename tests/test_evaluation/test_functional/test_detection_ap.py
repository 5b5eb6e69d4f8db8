"""Tests of mmssl.evaluation.functional.detection_ap: SeqNet's and VOC's AP and recall.

SeqNet's rule (docs/evaluation.md section 2) is checked on hand cases where it differs
from VOC's, and against a plain loop transcription of the rule on random data.
"""
import numpy as np
import pytest

from sklearn.metrics import average_precision_score

from mmssl.evaluation.functional import (aligned_box_iou, all_point_average_precision,
                                         detection_ap_recall)

VOC = dict(method='voc')


def test_aligned_box_iou_hand_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [3, 3, 3, 3]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [3, 3, 3, 3]])
    np.testing.assert_allclose(aligned_box_iou(a, b), [1.0, 50 / 150, 0.0, 0.0])
    with pytest.raises(ValueError, match='paired'):
        aligned_box_iou(a, b[:2])


def test_all_point_ap_uses_precision_envelope():
    # TP FP TP FP with 2 positives: 0.5 * 1 + 0.5 * 2/3.
    assert all_point_average_precision([1, 0, 1, 0], 2) == pytest.approx(0.5 + 1 / 3)
    assert all_point_average_precision([], 2) == 0.0


def test_duplicates_missed_box_and_recall():
    box_a, box_b, box_c = [0, 0, 10, 20], [100, 0, 110, 20], [0, 0, 10, 20]
    det_boxes = [
        np.array([[0, 0, 10, 20], [0, 1, 10, 20], [100, 0, 110, 19], [50, 50, 60, 60]]),
        np.zeros((0, 4)),
    ]
    det_scores = [np.array([0.9, 0.8, 0.7, 0.6]), np.zeros(0)]
    gt_boxes = [np.array([box_a, box_b]), np.array([box_c])]
    # ranked: TP (a), FP (duplicate of a), TP (b), FP; box c never found.
    out = detection_ap_recall(det_boxes, det_scores, gt_boxes, **VOC)
    assert out['recall'] == pytest.approx(2 / 3)
    assert out['ap'] == pytest.approx(1 / 3 * 1 + 1 / 3 * 2 / 3)


def test_best_box_already_taken_is_a_false_positive():
    # d2's best box (a) is taken by d1; box b (IoU 0.54 >= 0.5) is not tried (VOC).
    gt = [np.array([[0, 0, 10, 10], [5, 0, 15, 10]])]
    dets = [np.array([[0, 0, 10, 10], [2, 0, 12, 10]])]
    out = detection_ap_recall(dets, [np.array([0.9, 0.8])], gt, **VOC)
    assert out['recall'] == pytest.approx(0.5)
    assert out['ap'] == pytest.approx(0.5)


def test_ignored_boxes_neither_count_nor_penalise():
    gt = [np.array([[0, 0, 10, 10], [50, 50, 60, 60]])]
    dets = [np.array([[50, 50, 60, 60], [0, 0, 10, 10]])]
    scores = [np.array([0.9, 0.8])]
    for method in ('voc', 'seqnet'):
        plain = detection_ap_recall(dets, scores, gt, method=method)
        assert plain['ap'] == pytest.approx(1.0)
        # box 2 ignored: the first detection leaves the ranking, box 1 is the only
        # positive
        ignored = detection_ap_recall(dets, scores, gt, gt_ignore=[np.array([False, True])],
                                      method=method)
        assert ignored == pytest.approx(dict(ap=1.0, recall=1.0, num_gt=1, num_tp=1))
        # with box 1 ignored instead: the detection on box 2 finds it
        found = detection_ap_recall([dets[0][:1]], [scores[0][:1]], gt,
                                    gt_ignore=[np.array([True, False])], method=method)
        assert found == pytest.approx(dict(ap=1.0, recall=1.0, num_gt=1, num_tp=1))
        none_found = detection_ap_recall([dets[0][1:]], [scores[0][1:]], gt,
                                         gt_ignore=[np.array([True, False])], method=method)
        assert none_found == pytest.approx(dict(ap=0.0, recall=0.0, num_gt=1, num_tp=0))


def test_iou_threshold_and_empty_inputs():
    gt = [np.array([[0, 0, 10, 10]])]
    dets = [np.array([[0, 0, 10, 6]])]  # IoU 0.6
    for method in ('voc', 'seqnet'):
        one = dict(det_boxes=dets, det_scores=[np.array([1.0])], method=method)
        assert detection_ap_recall(gt_boxes=gt, iou_thr=0.5, **one)['recall'] == 1.0
        assert detection_ap_recall(gt_boxes=gt, iou_thr=0.7, **one)['recall'] == 0.0
        no_gt = detection_ap_recall(gt_boxes=[np.zeros((0, 4))], **one)
        assert np.isnan(no_gt['ap']) and np.isnan(no_gt['recall']) and no_gt['num_gt'] == 0
        no_det = detection_ap_recall([np.zeros((0, 4))], [np.zeros(0)], gt, method=method)
        assert no_det == dict(ap=0.0, recall=0.0, num_gt=1, num_tp=0)


def test_bad_input_names_the_image():
    with pytest.raises(ValueError, match='image 1 has 1 boxes but 2 scores'):
        detection_ap_recall([np.zeros((0, 4)), np.zeros((1, 4))],
                            [np.zeros(0), np.zeros(2)], [np.zeros((0, 4))] * 2)
    with pytest.raises(ValueError, match='gt_boxes\\[0\\]'):
        detection_ap_recall([np.zeros((0, 4))], [np.zeros(0)], [np.zeros(3)])
    with pytest.raises(ValueError, match="method must be one of \\('seqnet', 'voc'\\)"):
        detection_ap_recall([np.zeros((0, 4))], [np.zeros(0)], [np.zeros((0, 4))],
                            method='coco')
    with pytest.raises(ValueError, match='labelled_only needs gt_person_ids'):
        detection_ap_recall([np.zeros((0, 4))], [np.zeros(0)], [np.zeros((0, 4))],
                            labelled_only=True)
    with pytest.raises(ValueError, match='1 gt_person_ids arrays for 2 images'):
        detection_ap_recall([np.zeros((0, 4))] * 2, [np.zeros(0)] * 2,
                            [np.zeros((0, 4))] * 2, gt_person_ids=[np.zeros(0)])


def _random_case(rng, num_images=25):
    dets, scores, gts, ignores = [], [], [], []
    for _ in range(num_images):
        m = rng.integers(0, 5)
        xy = rng.uniform(0, 200, (m, 2))
        g = np.hstack([xy, xy + rng.uniform(10, 60, (m, 2))])
        jitter = g[rng.integers(0, max(m, 1), rng.integers(0, 7))] if m else np.zeros((0, 4))
        d = jitter + rng.normal(0, 6, jitter.shape)
        extra = rng.uniform(0, 200, (rng.integers(0, 3), 2))
        d = np.vstack([d, np.hstack([extra, extra + 30])])
        dets.append(d)
        scores.append(rng.uniform(0, 1, len(d)))
        gts.append(g)
        ignores.append(rng.uniform(size=m) < 0.2)
    return dets, scores, gts, ignores


def test_matches_mmdet_eval_map_on_random_data():
    from mmdet.evaluation.functional import eval_map
    rng = np.random.default_rng(0)
    for _ in range(3):
        dets, scores, gts, ignores = _random_case(rng)
        det_results = [[np.hstack([d, s[:, None]])] for d, s in zip(dets, scores)]
        annotations = [dict(bboxes=g[~ig], labels=np.zeros(int((~ig).sum()), np.int64),
                            bboxes_ignore=g[ig], labels_ignore=np.zeros(int(ig.sum()), np.int64))
                       for g, ig in zip(gts, ignores)]
        mean_ap, results = eval_map(det_results, annotations, iou_thr=0.5, nproc=1,
                                    logger='silent')
        # mmdet puts ignored boxes after the others; reorder ours the same way
        ordered = [np.vstack([g[~ig], g[ig]]) for g, ig in zip(gts, ignores)]
        ordered_ignore = [np.sort(ig) for ig in ignores]
        ours = detection_ap_recall(dets, scores, ordered, gt_ignore=ordered_ignore,
                                   score_thr=0.0, **VOC)
        assert ours['ap'] == pytest.approx(mean_ap, abs=1e-6)
        assert ours['recall'] == pytest.approx(float(results[0]['recall'][-1]), abs=1e-6)


def test_functional_package_imports_numpy_only():
    import ast
    import pathlib

    import mmssl.evaluation.functional as functional
    allowed = {'numpy', 'sklearn', 'typing', 'dataclasses', '__future__'}
    for path in pathlib.Path(functional.__file__).parent.glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split('.')[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {node.module.split('.')[0]}
            else:
                continue
            assert roots <= allowed, f'{path.name} imports {roots - allowed}'


# --------------------------------------------------------------- SeqNet's evaluator

FAR = [50, 50, 60, 60]


def test_seqnet_and_voc_formulas_differ_on_the_same_matches():
    # three boxes, ranked FP (0.9), TP A (0.8), TP B (0.7); C never found. Both rules
    # match the same way here, only the AP formula differs.
    gt = [np.array([[0, 0, 10, 10], [100, 0, 110, 10], [200, 0, 210, 10]])]
    dets = [np.array([FAR, [0, 0, 10, 10], [100, 0, 110, 10]])]
    scores = [np.array([0.9, 0.8, 0.7])]
    # VOC: precision 1/2, 2/3 at the hits, envelope 2/3 for both recall steps of 1/3
    voc = detection_ap_recall(dets, scores, gt, **VOC)
    assert voc['ap'] == pytest.approx(2 / 3 * 1 / 3 + 2 / 3 * 1 / 3) == 4 / 9
    # SeqNet: scikit-learn's mean precision at the hits (no envelope) times recall 2/3
    seqnet = detection_ap_recall(dets, scores, gt)
    assert seqnet['ap'] == pytest.approx((1 / 2 + 2 / 3) / 2 * 2 / 3) == 7 / 18
    assert seqnet['recall'] == voc['recall'] == pytest.approx(2 / 3)


def test_mutual_best_leaves_a_box_unmatched_that_greedy_matches():
    # A = [0, 0, 10, 10], B = [2, 0, 12, 10]. d1 = A (IoU 1 with A, 2/3 with B);
    # d2 = [5, 0, 15, 10] (IoU 1/3 with A, 7/13 with B). B's best detection is d1,
    # whose best box is A: B stays unmatched. Greedy gives d2 to B.
    gt = [np.array([[0, 0, 10, 10], [2, 0, 12, 10]])]
    dets = [np.array([[0, 0, 10, 10], [5, 0, 15, 10]])]
    scores = [np.array([0.9, 0.8])]
    assert detection_ap_recall(dets, scores, gt, **VOC) == pytest.approx(
        dict(ap=1.0, recall=1.0, num_gt=2, num_tp=2))
    # SeqNet: ranked T (0.9), F (0.8): scikit-learn AP 1, times recall 1/2
    assert detection_ap_recall(dets, scores, gt) == pytest.approx(
        dict(ap=0.5, recall=0.5, num_gt=2, num_tp=1))


def test_mutual_best_ignores_scores():
    # d1 (score 0.9) overlaps A by 0.6, d2 (score 0.3) by 0.9: SeqNet gives A to d2.
    gt = [np.array([[0, 0, 10, 10]])]
    dets = [np.array([[0, 0, 10, 6], [0, 0, 10, 9]])]
    scores = [np.array([0.9, 0.3])]
    assert detection_ap_recall(dets, scores, gt, **VOC)['ap'] == pytest.approx(1.0)
    seqnet = detection_ap_recall(dets, scores, gt)
    assert seqnet['recall'] == 1.0
    assert seqnet['ap'] == pytest.approx(average_precision_score([0, 1], [0.9, 0.3])) == 0.5


def test_equal_ious_go_to_the_first_detection_and_tied_scores_are_one_threshold():
    gt = [np.array([[0, 0, 10, 10]])]
    twins = [np.array([[0, 0, 10, 10], [0, 0, 10, 10]])]
    # the first detection (score 0.9) takes the box, the second (0.95) is a miss
    assert detection_ap_recall(twins, [np.array([0.9, 0.95])], gt)['ap'] == 0.5
    # a hit and a miss tied at 0.8 form one threshold: precision 1/2 there
    tied = detection_ap_recall([np.array([FAR, [0, 0, 10, 10]])], [np.array([0.8, 0.8])], gt)
    assert tied['ap'] == 0.5


def test_score_threshold_defaults_to_seqnets_001():
    gt = [np.array([[0, 0, 10, 10], [100, 0, 110, 10]])]
    dets = [np.array([[0, 0, 10, 10], [100, 0, 110, 10]])]
    scores = [np.array([0.9, 0.005])]
    assert detection_ap_recall(dets, scores, gt)['recall'] == 0.5
    assert detection_ap_recall(dets, scores, gt, score_thr=0.0)['recall'] == 1.0
    assert detection_ap_recall(dets, scores, gt, score_thr=0.5)['recall'] == 0.5


def test_labelled_only_drops_unlabelled_boxes_and_images_without_labelled_ones():
    person, passer_by = [0, 0, 10, 20], [50, 0, 60, 20]
    gt = [np.array([person, passer_by]), np.array([person]), np.zeros((0, 4))]
    pids = [np.array([5, -2]), np.array([-1]), np.zeros(0)]
    dets = [np.array([passer_by, person]), np.array([person]), np.array([FAR])]
    scores = [np.array([0.9, 0.8]), np.array([0.95]), np.array([0.7])]
    # all boxes: 3 of 3 found; ranked .95 T, .9 T, .8 T, .7 F (the box-less image)
    every = detection_ap_recall(dets, scores, gt, gt_person_ids=pids)
    assert every == pytest.approx(dict(ap=1.0, recall=1.0, num_gt=3, num_tp=3))
    # labelled only: images 1 and 2 leave; in image 0 the passer-by's detection (.9)
    # is a false positive ranked before the hit (.8)
    for method in ('seqnet', 'voc'):
        labelled = detection_ap_recall(dets, scores, gt, gt_person_ids=pids,
                                       labelled_only=True, method=method)
        assert labelled == pytest.approx(dict(ap=0.5, recall=1.0, num_gt=1, num_tp=1))
    none = detection_ap_recall(dets[1:], scores[1:], gt[1:], gt_person_ids=pids[1:],
                               labelled_only=True)
    assert np.isnan(none['ap']) and np.isnan(none['recall'])


def _seqnet_rule_by_loops(dets, scores, gts, pids=None, labelled_only=False,
                          score_thr=0.01, iou_thr=0.5):
    """SeqNet's detection rule written out with loops (docs/evaluation.md section 2)."""
    y_true, y_score, num_gt, num_tp = [], [], 0, 0
    for img in range(len(gts)):
        boxes = gts[img]
        if labelled_only:
            boxes = boxes[pids[img] >= 0]
            if len(boxes) == 0:
                continue
        keep = scores[img] >= score_thr
        det, score = dets[img][keep], scores[img][keep]
        num_gt += len(boxes)
        iou = np.zeros((len(boxes), len(det)), dtype=np.float32)
        for i in range(len(boxes)):
            for j in range(len(det)):
                iou[i, j] = aligned_box_iou(boxes[i:i + 1], det[j:j + 1])[0]
        for j in range(len(det)):
            hit = False
            if len(boxes):
                best_box = int(np.argmax(iou[:, j]))
                hit = (iou[best_box, j] >= iou_thr
                       and int(np.argmax(iou[best_box, :])) == j)
            y_true.append(hit)
            y_score.append(score[j])
            num_tp += hit
    recall = num_tp / num_gt
    ap = average_precision_score(y_true, y_score) * recall if num_tp else 0.0
    return dict(ap=ap, recall=recall, num_gt=num_gt, num_tp=num_tp)


def test_seqnet_rule_matches_a_loop_transcription_on_random_data():
    rng = np.random.default_rng(4)
    for trial in range(6):
        dets, scores, gts, _ = _random_case(rng, num_images=30)
        # integer boxes and duplicated detections make IoU ties; some scores repeat
        dets = [np.round(np.vstack([d, d[:1]])) for d in dets]
        scores = [np.round(np.append(s, s[:1]), 1) for s in scores]
        gts = [np.round(g) for g in gts]
        pids = [rng.integers(-2, 3, len(g)) for g in gts]
        for labelled_only in (False, True):
            expected = _seqnet_rule_by_loops(dets, scores, gts, pids, labelled_only)
            ours = detection_ap_recall(dets, scores, gts, gt_person_ids=pids,
                                       labelled_only=labelled_only)
            assert ours == pytest.approx(expected, abs=1e-12), (trial, labelled_only)


def test_ious_are_compared_in_float32_as_seqnet_stores_them():
    # IoU 100 / (200 + 1e-6) = 0.5 - 2.5e-9: below 0.5 in float64, 0.5 in float32
    gt = [np.array([[0, 0, 10, 20 + 1e-7]])]
    dets, scores = [np.array([[0, 0, 10, 10]])], [np.array([0.9])]
    assert aligned_box_iou(dets[0], gt[0])[0] < 0.5
    assert detection_ap_recall(dets, scores, gt)['recall'] == 1.0
    assert detection_ap_recall(dets, scores, gt, **VOC)['recall'] == 0.0
