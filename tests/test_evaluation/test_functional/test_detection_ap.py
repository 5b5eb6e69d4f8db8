"""Tests of mmssl.evaluation.functional.detection_ap (VOC all-point AP, recall)."""
import numpy as np
import pytest

from mmssl.evaluation.functional import (aligned_box_iou, all_point_average_precision,
                                         detection_ap_recall)


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
    out = detection_ap_recall(det_boxes, det_scores, gt_boxes)
    assert out['recall'] == pytest.approx(2 / 3)
    assert out['ap'] == pytest.approx(1 / 3 * 1 + 1 / 3 * 2 / 3)


def test_best_box_already_taken_is_a_false_positive():
    # d2's best box (a) is taken by d1; box b (IoU 0.54 >= 0.5) is not tried (VOC).
    gt = [np.array([[0, 0, 10, 10], [5, 0, 15, 10]])]
    dets = [np.array([[0, 0, 10, 10], [2, 0, 12, 10]])]
    out = detection_ap_recall(dets, [np.array([0.9, 0.8])], gt)
    assert out['recall'] == pytest.approx(0.5)
    assert out['ap'] == pytest.approx(0.5)


def test_ignored_boxes_neither_count_nor_penalise():
    gt = [np.array([[0, 0, 10, 10], [50, 50, 60, 60]])]
    dets = [np.array([[50, 50, 60, 60], [0, 0, 10, 10]])]
    scores = [np.array([0.9, 0.8])]
    plain = detection_ap_recall(dets, scores, gt)
    assert plain['ap'] == pytest.approx(1.0)
    # box 2 ignored: the first detection leaves the ranking, box 1 is the only positive
    ignored = detection_ap_recall(dets, scores, gt, gt_ignore=[np.array([False, True])])
    assert ignored == pytest.approx(dict(ap=1.0, recall=1.0))
    # with box 1 ignored instead and the detection on it missing: nothing found
    missed = detection_ap_recall([dets[0][:1]], [scores[0][:1]], gt,
                                 gt_ignore=[np.array([True, False])])
    assert missed == pytest.approx(dict(ap=1.0, recall=1.0))
    none_found = detection_ap_recall([dets[0][1:]], [scores[0][1:]], gt,
                                     gt_ignore=[np.array([True, False])])
    assert none_found == pytest.approx(dict(ap=0.0, recall=0.0))


def test_iou_threshold_and_empty_inputs():
    gt = [np.array([[0, 0, 10, 10]])]
    dets = [np.array([[0, 0, 10, 6]])]  # IoU 0.6
    assert detection_ap_recall(dets, [np.array([1.0])], gt, iou_thr=0.5)['recall'] == 1.0
    assert detection_ap_recall(dets, [np.array([1.0])], gt, iou_thr=0.7)['recall'] == 0.0
    no_gt = detection_ap_recall(dets, [np.array([1.0])], [np.zeros((0, 4))])
    assert np.isnan(no_gt['ap']) and np.isnan(no_gt['recall'])
    no_det = detection_ap_recall([np.zeros((0, 4))], [np.zeros(0)], gt)
    assert no_det == dict(ap=0.0, recall=0.0)


def test_bad_input_names_the_image():
    with pytest.raises(ValueError, match='image 1 has 1 boxes but 2 scores'):
        detection_ap_recall([np.zeros((0, 4)), np.zeros((1, 4))],
                            [np.zeros(0), np.zeros(2)], [np.zeros((0, 4))] * 2)
    with pytest.raises(ValueError, match='gt_boxes\\[0\\]'):
        detection_ap_recall([np.zeros((0, 4))], [np.zeros(0)], [np.zeros(3)])


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
        ours = detection_ap_recall(dets, scores, ordered, gt_ignore=ordered_ignore)
        assert ours['ap'] == pytest.approx(mean_ap, abs=1e-6)
        assert ours['recall'] == pytest.approx(float(results[0]['recall'][-1]), abs=1e-6)


def test_functional_package_imports_numpy_only():
    import ast
    import pathlib

    import mmssl.evaluation.functional as functional
    allowed = {'numpy', 'typing', 'dataclasses', '__future__'}
    for path in pathlib.Path(functional.__file__).parent.glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split('.')[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {node.module.split('.')[0]}
            else:
                continue
            assert roots <= allowed, f'{path.name} imports {roots - allowed}'
