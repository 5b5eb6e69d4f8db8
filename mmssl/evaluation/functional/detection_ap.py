"""Person detection average precision and recall at one IoU threshold.

Matching is the PASCAL VOC / MMDetection ``tpfp_default`` rule, vectorised: all
detections of all images are ranked by score (descending; ties keep image order, then
detection order); each detection looks at the ground-truth box of its image with the
highest IoU (the first on IoU ties). If that IoU is at least ``iou_thr`` the detection
is a true positive when it is the highest-ranked such detection of that box, else a
false positive (a duplicate); a detection whose best box is ignored is left out of the
ranking; a detection below ``iou_thr`` is a false positive. AP is the all-point
interpolated area under the precision-recall curve (VOC 2010+): precision is replaced
by its running maximum from the right and summed over the recall steps. Recall is the
fraction of non-ignored boxes matched by some detection. Plain numpy; no mmdet import.
"""
from typing import Dict, Optional, Sequence

import numpy as np

from .box_iou import aligned_box_iou
from .ragged import expand_ranges, group_offsets


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
    """All-point interpolated AP of a ranked list of detections.

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


def detection_ap_recall(det_boxes: Sequence[np.ndarray],
                        det_scores: Sequence[np.ndarray],
                        gt_boxes: Sequence[np.ndarray],
                        iou_thr: float = 0.5,
                        gt_ignore: Optional[Sequence[np.ndarray]] = None
                        ) -> Dict[str, float]:
    """Detection AP (VOC all-point) and recall over a set of images.

    Args:
        det_boxes: per image, ``(n_i, 4)`` detections ``[x1, y1, x2, y2]``.
        det_scores: per image, ``(n_i,)`` detection scores. Filter low scores before
            calling if a score threshold is wanted.
        gt_boxes: per image, ``(m_i, 4)`` ground-truth boxes.
        iou_thr: IoU at which a detection may match a box.
        gt_ignore: per image, ``(m_i,)`` bool, True for boxes that neither count as
            positives nor make their matching detections false positives.

    Returns:
        ``dict(ap=, recall=)``; both NaN when there is no non-ignored ground truth.
        See the module docstring for the matching rule.

    Raises:
        ValueError: lists of different lengths, or an image whose scores do not match
            its boxes (the message names the image index).
    """
    num_images = len(gt_boxes)
    if len(det_boxes) != num_images or len(det_scores) != num_images:
        raise ValueError(f'detection_ap_recall: {len(det_boxes)} detection box arrays, '
                         f'{len(det_scores)} score arrays, {num_images} ground-truth arrays')
    if gt_ignore is not None and len(gt_ignore) != num_images:
        raise ValueError(f'detection_ap_recall: {len(gt_ignore)} gt_ignore arrays for '
                         f'{num_images} images')
    dets, det_img = _flatten_per_image(det_boxes, 4, 'det_boxes')
    scores, score_img = _flatten_per_image(det_scores, 0, 'det_scores')
    if not np.array_equal(det_img, score_img):
        bad = next(i for i in range(num_images)
                   if np.asarray(det_scores[i]).size * 4 != np.asarray(det_boxes[i]).size)
        raise ValueError(f'detection_ap_recall: image {bad} has '
                         f'{np.asarray(det_boxes[bad]).size // 4} boxes but '
                         f'{np.asarray(det_scores[bad]).size} scores')
    gts, gt_img = _flatten_per_image(gt_boxes, 4, 'gt_boxes')
    if gt_ignore is None:
        ignored = np.zeros(len(gts), dtype=bool)
    else:
        ignored, ignore_img = _flatten_per_image(gt_ignore, 0, 'gt_ignore')
        if not np.array_equal(ignore_img, gt_img):
            raise ValueError('detection_ap_recall: gt_ignore lengths differ from gt_boxes')
        ignored = ignored.astype(bool)
    num_positives = int((~ignored).sum())
    if num_positives == 0:
        return dict(ap=float('nan'), recall=float('nan'))

    # Rank of every detection: score descending, ties by image then detection order.
    order = np.argsort(-scores, kind='stable')
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))

    # Best ground-truth box of each detection (first one on IoU ties).
    gt_offsets = group_offsets(gt_img, num_images)
    starts = gt_offsets[det_img]
    pair_gt, pair_det = expand_ranges(starts, gt_offsets[det_img + 1] - starts)
    pair_iou = aligned_box_iou(dets[pair_det], gts[pair_gt])
    by_det = np.lexsort((pair_gt, -pair_iou, pair_det))
    first = np.ones(len(by_det), dtype=bool)
    first[1:] = pair_det[by_det][1:] != pair_det[by_det][:-1]
    best_pair = by_det[first]
    best_gt = np.full(len(dets), -1, dtype=np.int64)
    best_iou = np.zeros(len(dets))
    best_gt[pair_det[best_pair]] = pair_gt[best_pair]
    best_iou[pair_det[best_pair]] = pair_iou[best_pair]

    matched = best_iou >= iou_thr
    skip = matched & ignored[np.maximum(best_gt, 0)] & (best_gt >= 0)
    candidate = np.flatnonzero(matched & ~skip)
    # Among detections matching the same box only the highest ranked one is a TP.
    by_gt = candidate[np.lexsort((rank[candidate], best_gt[candidate]))]
    first_of_gt = np.ones(len(by_gt), dtype=bool)
    first_of_gt[1:] = best_gt[by_gt][1:] != best_gt[by_gt][:-1]
    is_tp = np.zeros(len(dets), dtype=bool)
    is_tp[by_gt[first_of_gt]] = True

    ranked = order[~skip[order]]
    ap = all_point_average_precision(is_tp[ranked], num_positives)
    recall = float(is_tp.sum()) / num_positives
    return dict(ap=ap, recall=recall)
