"""Person detection average precision and recall at one IoU threshold.

Two evaluators (docs/evaluation.md section 2):

* ``method='seqnet'`` (default), the figures person-search papers print: SeqNet's
  ``eval_detection`` (serend1p1ty/SeqNet ``eval_func.py``). Detections and boxes are
  paired by mutual best IoU (:func:`.detection_matching.mutual_best_matches`);
  recall = matched boxes / boxes; AP = scikit-learn's ``average_precision_score`` over
  all kept detections (true positive = matched) times that recall.
* ``method='voc'``, MMDetection's figures: greedy matching by score
  (:func:`.detection_matching.greedy_matches`) and the all-point interpolated area under
  the precision-recall curve (PASCAL VOC 2010+), :func:`all_point_average_precision`.

Plain numpy and scikit-learn; no mmdet import.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from sklearn.metrics import average_precision_score

from .detection_matching import greedy_matches, image_pairs, mutual_best_matches

DETECTION_SCORE_THR = 0.01
"""Score threshold of the detection figures (SeqNet's ``engine.py`` uses 0.01)."""

DETECTION_METHODS = ('seqnet', 'voc')


def _flatten_per_image(arrays: Sequence[np.ndarray], width: int, name: str):
    """Concatenate per-image arrays, returning rows and the image index of each."""
    rows, owners = [], []
    for img_idx, arr in enumerate(arrays):
        arr = np.asarray(arr, dtype=np.float64)
        if width:
            if arr.size % width:
                raise ValueError(f'{name}[{img_idx}]: shape {arr.shape} cannot be read as '
                                 f'rows of {width} values')
            arr = arr.reshape(-1, width)
        else:
            arr = arr.reshape(-1)
        rows.append(arr)
        owners.append(np.full(len(arr), img_idx, dtype=np.int64))
    empty = np.zeros((0, width) if width else (0,))
    return (np.concatenate(rows) if rows else empty,
            np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64))


def all_point_average_precision(is_tp: np.ndarray, num_positives: int) -> float:
    """All-point interpolated AP of a ranked list of detections (PASCAL VOC 2010+).

    Args:
        is_tp: ``(n,)`` bool, detections in rank order, True for a true positive.
        num_positives: number of ground-truth objects (> 0).

    Returns:
        ``sum_k (r_k - r_{k-1}) * max_{j >= k} p_j`` over the ranks ``k``.
    """
    is_tp = np.asarray(is_tp, dtype=bool)
    if len(is_tp) == 0:
        return 0.0
    cum_tp = np.cumsum(is_tp)
    recall = cum_tp / float(num_positives)
    precision = cum_tp / np.arange(1, len(is_tp) + 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    recall_step = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(recall_step * envelope))


def seqnet_average_precision(is_tp: np.ndarray, scores: np.ndarray,
                             num_positives: int) -> float:
    """SeqNet's detection AP: ``average_precision_score(is_tp, scores) * recall``.

    scikit-learn's AP takes the distinct scores as thresholds (tied scores form one
    step) and sums precision times the recall step, recall counted over the true
    positives found; multiplying by ``found / num_positives`` makes the area over all
    positives. 0 when nothing is found.

    Args:
        is_tp: ``(n,)`` bool, True for a true positive (any order).
        scores: ``(n,)`` detection scores.
        num_positives: number of ground-truth objects (> 0).
    """
    is_tp = np.asarray(is_tp, dtype=bool)
    found = int(is_tp.sum())
    if found == 0:
        return 0.0
    return float(average_precision_score(is_tp, np.asarray(scores, np.float64))
                 * found / num_positives)


def _check_lengths(num_images: int, **lists) -> None:
    for name, values in lists.items():
        if values is not None and len(values) != num_images:
            raise ValueError(f'detection_ap_recall: {len(values)} {name} arrays for '
                             f'{num_images} images (gt_boxes)')


def detection_ap_recall(det_boxes: Sequence[np.ndarray],
                        det_scores: Sequence[np.ndarray],
                        gt_boxes: Sequence[np.ndarray],
                        iou_thr: float = 0.5,
                        gt_ignore: Optional[Sequence[np.ndarray]] = None,
                        score_thr: float = DETECTION_SCORE_THR,
                        method: str = 'seqnet',
                        gt_person_ids: Optional[Sequence[np.ndarray]] = None,
                        labelled_only: bool = False) -> Dict[str, float]:
    """Detection AP and recall over a set of images (see the module docstring).

    Args:
        det_boxes: per image, ``(n_i, 4)`` detections ``[x1, y1, x2, y2]``.
        det_scores: per image, ``(n_i,)`` detection scores.
        gt_boxes: per image, ``(m_i, 4)`` ground-truth boxes.
        iou_thr: IoU at which a detection may match a box.
        gt_ignore: per image, ``(m_i,)`` bool, True for boxes that neither count as
            positives nor make a detection they match a false positive (that
            detection leaves the ranking). The person-search readers ignore none.
        score_thr: detections scoring below it are dropped first.
        method: ``'seqnet'`` or ``'voc'``.
        gt_person_ids: per image, ``(m_i,)`` person ids (< 0: unlabelled); needed by
            ``labelled_only``.
        labelled_only: SeqNet's ``labeled_only``: drop the unlabelled boxes, and
            leave out every image without a labelled box (its detections too).
            Detections of unlabelled persons in the other images are false positives,
            which is why papers print only this setting's recall.

    Returns:
        ``dict(ap=, recall=, num_gt=, num_tp=)``; ``ap`` and ``recall`` are NaN when
        no box counts.

    Raises:
        ValueError: lists of different lengths, an image whose scores do not match
            its boxes (the message names the image index), an unknown method, or
            ``labelled_only`` without ``gt_person_ids``.
    """
    if method not in DETECTION_METHODS:
        raise ValueError(f'detection_ap_recall: method must be one of {DETECTION_METHODS}, '
                         f'got {method!r}')
    num_images = len(gt_boxes)
    _check_lengths(num_images, detection_box=det_boxes, score=det_scores,
                   gt_ignore=gt_ignore, gt_person_ids=gt_person_ids)
    if labelled_only and gt_person_ids is None:
        raise ValueError('detection_ap_recall: labelled_only needs gt_person_ids')
    dets, det_img = _flatten_per_image(det_boxes, 4, 'det_boxes')
    scores, score_img = _flatten_per_image(det_scores, 0, 'det_scores')
    if not np.array_equal(det_img, score_img):
        bad = next(i for i in range(num_images)
                   if np.asarray(det_scores[i]).size * 4 != np.asarray(det_boxes[i]).size)
        raise ValueError(f'detection_ap_recall: image {bad} has '
                         f'{np.asarray(det_boxes[bad]).size // 4} boxes but '
                         f'{np.asarray(det_scores[bad]).size} scores')
    gts, gt_img = _flatten_per_image(gt_boxes, 4, 'gt_boxes')
    ignored = np.zeros(len(gts), dtype=bool)
    if gt_ignore is not None:
        ignored, ignore_img = _flatten_per_image(gt_ignore, 0, 'gt_ignore')
        if not np.array_equal(ignore_img, gt_img):
            raise ValueError('detection_ap_recall: gt_ignore lengths differ from gt_boxes')
        ignored = ignored.astype(bool)

    keep_det = scores >= score_thr
    keep_gt = np.ones(len(gts), dtype=bool)
    if labelled_only:
        person_ids, pid_img = _flatten_per_image(gt_person_ids, 0, 'gt_person_ids')
        if not np.array_equal(pid_img, gt_img):
            raise ValueError('detection_ap_recall: gt_person_ids lengths differ from '
                             'gt_boxes')
        keep_gt = person_ids >= 0
        keep_det &= np.isin(det_img, gt_img[keep_gt])
    dets, det_img, scores = dets[keep_det], det_img[keep_det], scores[keep_det]
    gts, gt_img, ignored = gts[keep_gt], gt_img[keep_gt], ignored[keep_gt]
    num_gt = int((~ignored).sum())
    if num_gt == 0:
        return dict(ap=float('nan'), recall=float('nan'), num_gt=0, num_tp=0)

    pairs = image_pairs(dets, det_img, gts, gt_img, num_images)
    if method == 'seqnet':
        is_tp, left_out = mutual_best_matches(pairs, len(dets), ignored, iou_thr)
        ranked = ~left_out
        ap = seqnet_average_precision(is_tp[ranked], scores[ranked], num_gt)
    else:
        # Rank of every detection: score descending, ties by image then detection order.
        order = np.argsort(-scores, kind='stable')
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        is_tp, left_out = greedy_matches(pairs, rank, ignored, iou_thr)
        ranked = order[~left_out[order]]
        ap = all_point_average_precision(is_tp[ranked], num_gt)
    num_tp = int(is_tp.sum())
    return dict(ap=ap, recall=num_tp / num_gt, num_gt=num_gt, num_tp=num_tp)
