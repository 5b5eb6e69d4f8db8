"""Pure evaluation math over numpy arrays (no mmdet or torch import).

The rules are those of docs/evaluation.md:

* :func:`evaluate_search`: person-search mAP / top-k under a search protocol, with
  :class:`SearchGallery` / :class:`SearchQueries` inputs.
* :func:`detection_ap_recall`: person detection AP and recall, SeqNet's evaluator
  (default) or PASCAL VOC's.
* :func:`search_iou_threshold`: the small-box IoU rule.
* :func:`box_scale_class`, :func:`cross_scale_query_mask`: the paper's scale classes.
"""
from .box_iou import aligned_box_iou
from .detection_ap import (DETECTION_METHODS, DETECTION_SCORE_THR,
                           all_point_average_precision, detection_ap_recall,
                           seqnet_average_precision)
from .detection_matching import greedy_matches, image_pairs, mutual_best_matches
from .ragged import expand_ranges, group_offsets
from .scale_classes import (SCALE_AREA_BOUNDS, SCALE_CLASS_NAMES, box_scale_class,
                            cross_scale_query_mask)
from .search_data import SearchGallery, SearchQueries
from .search_eval import (DEFAULT_TOPK, SEARCH_SCORE_THR, SearchResult, evaluate_search,
                          l2_normalise, search_iou_threshold)

__all__ = [
    'aligned_box_iou', 'DETECTION_METHODS', 'DETECTION_SCORE_THR',
    'all_point_average_precision', 'detection_ap_recall', 'seqnet_average_precision',
    'greedy_matches', 'image_pairs', 'mutual_best_matches', 'expand_ranges',
    'group_offsets', 'SCALE_AREA_BOUNDS', 'SCALE_CLASS_NAMES', 'box_scale_class',
    'cross_scale_query_mask', 'SearchGallery', 'SearchQueries', 'DEFAULT_TOPK',
    'SEARCH_SCORE_THR', 'SearchResult', 'evaluate_search', 'l2_normalise',
    'search_iou_threshold'
]
