"""Which detections find which ground-truth boxes: the two matching rules.

Both rules work on the flat (CSR) layout of :mod:`.ragged`: every detection and every
box is one row with the index of its image, and only pairs within one image are formed.
Each returns, per detection, whether it is a true positive and whether it is left out
of the ranking (it found an ignored box). docs/evaluation.md section 2 states the rules
and where the literature uses each. Plain numpy; no mmdet import.
"""
from typing import NamedTuple, Tuple

import numpy as np

from .box_iou import aligned_box_iou
from .ragged import expand_ranges, group_offsets


class ImagePairs(NamedTuple):
    """Every (box, detection) pair of the same image, with its IoU.

    Attributes:
        gt: ``(P,)`` flat index of the box of each pair.
        det: ``(P,)`` flat index of the detection of each pair.
        iou: ``(P,)`` float64 IoU of the pair.
    """
    gt: np.ndarray
    det: np.ndarray
    iou: np.ndarray


def image_pairs(det_boxes: np.ndarray, det_img: np.ndarray, gt_boxes: np.ndarray,
                gt_img: np.ndarray, num_images: int) -> ImagePairs:
    """All (box, detection) pairs of each image and their IoU.

    Args:
        det_boxes: ``(D, 4)`` detections.
        det_img: ``(D,)`` image index of each detection.
        gt_boxes: ``(M, 4)`` boxes, sorted by image.
        gt_img: ``(M,)`` non-decreasing image index of each box.
        num_images: number of images.
    """
    gt_offsets = group_offsets(gt_img, num_images)
    starts = gt_offsets[det_img]
    pair_gt, pair_det = expand_ranges(starts, gt_offsets[det_img + 1] - starts)
    return ImagePairs(pair_gt, pair_det, aligned_box_iou(det_boxes[pair_det], gt_boxes[pair_gt]))


def _first_per_group(group: np.ndarray, *tie_keys: np.ndarray) -> np.ndarray:
    """Positions of the first row of each group after sorting by ``tie_keys``.

    ``np.lexsort`` sorts by its last key first: ``group``, then ``tie_keys[-1]``, ...
    """
    order = np.lexsort(tie_keys + (group, ))
    first = np.ones(len(order), dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    return order[first]


def _best_partner(pairs_of: np.ndarray, partner: np.ndarray, iou: np.ndarray,
                  size: int) -> Tuple[np.ndarray, np.ndarray]:
    """For each of ``size`` rows, the partner of highest IoU (lowest index on ties).

    Returns:
        ``(best, best_iou)``: ``(size,)`` partner index (-1 without any pair) and IoU.
    """
    best = np.full(size, -1, dtype=np.int64)
    best_iou = np.zeros(size)
    chosen = _first_per_group(pairs_of, partner, -iou)
    best[pairs_of[chosen]] = partner[chosen]
    best_iou[pairs_of[chosen]] = iou[chosen]
    return best, best_iou


def greedy_matches(pairs: ImagePairs, rank: np.ndarray, ignored: np.ndarray,
                   iou_thr: float) -> Tuple[np.ndarray, np.ndarray]:
    """PASCAL VOC / MMDetection ``tpfp_default`` matching, by score.

    Each detection looks at its box of highest IoU (the first on ties). At
    ``IoU >= iou_thr`` it is a true positive when it is the best-ranked detection
    looking at that box, else a duplicate (false positive); below ``iou_thr`` it is a
    false positive. A detection looking at an ignored box at ``IoU >= iou_thr`` leaves
    the ranking.

    Args:
        pairs: :func:`image_pairs` output.
        rank: ``(D,)`` rank of each detection (0 = highest score).
        ignored: ``(M,)`` bool, True for ignored boxes.
        iou_thr: IoU at which a detection may match a box.

    Returns:
        ``(is_tp, left_out)``: two ``(D,)`` bool arrays.
    """
    num_dets = len(rank)
    best_gt, best_iou = _best_partner(pairs.det, pairs.gt, pairs.iou, num_dets)
    matched = best_iou >= iou_thr
    left_out = matched & ignored[np.maximum(best_gt, 0)] & (best_gt >= 0)
    candidate = np.flatnonzero(matched & ~left_out)
    is_tp = np.zeros(num_dets, dtype=bool)
    is_tp[candidate[_first_per_group(best_gt[candidate], rank[candidate])]] = True
    return is_tp, left_out


def mutual_best_matches(pairs: ImagePairs, num_dets: int, ignored: np.ndarray,
                        iou_thr: float) -> Tuple[np.ndarray, np.ndarray]:
    """SeqNet's ``eval_detection`` matching: mutual best IoU, scores not consulted.

    A (box, detection) pair matches when the box is the detection's highest-IoU box,
    the detection is the box's highest-IoU detection (the lowest index wins ties on
    either side, as ``np.argmax`` does) and their IoU is at least ``iou_thr``. IoUs are
    rounded to float32 first, the precision SeqNet stores them in, so that ties fall
    as there. A detection matched to an ignored box leaves the ranking.

    Args:
        pairs: :func:`image_pairs` output.
        num_dets: number of detections ``D``.
        ignored: ``(M,)`` bool, True for ignored boxes.
        iou_thr: IoU at which a pair may match.

    Returns:
        ``(is_tp, left_out)``: two ``(D,)`` bool arrays.
    """
    iou = pairs.iou.astype(np.float32).astype(np.float64)
    best_gt, best_iou = _best_partner(pairs.det, pairs.gt, iou, num_dets)
    best_det, _ = _best_partner(pairs.gt, pairs.det, iou, len(ignored))
    has_gt = best_gt >= 0
    mutual = has_gt & (best_iou >= iou_thr)
    mutual[has_gt] &= best_det[best_gt[has_gt]] == np.flatnonzero(has_gt)
    left_out = mutual & ignored[np.maximum(best_gt, 0)]
    return mutual & ~left_out, left_out
