"""Building blocks: the C4 RoI stage and the exemplar branch's crops and batching."""
from .crop_canvas import CropCanvas, canvas_compatible, canvas_feature_maps
from .crop_roi_align import roi_feats_by_shape, whole_crop_roi_feats
from .exemplar_crops import bucket_crops, make_exemplar_crops, pad_crops
from .exemplar_roi_feats import (CROP_SIZE_DIVISOR, crop_roi_feats,
                                 original_crop_roi_feats)
from .frozen_bn_statistics import frozen_bn_statistics
from .memory_format import crop_memory_format
from .res_stage_head import ResStageHead
from .roi_align_backward import RoIAlignFastBackward, roi_align_input_grad

__all__ = [
    'CROP_SIZE_DIVISOR', 'CropCanvas', 'ResStageHead', 'RoIAlignFastBackward',
    'bucket_crops',
    'canvas_compatible', 'canvas_feature_maps', 'crop_memory_format',
    'crop_roi_feats', 'frozen_bn_statistics', 'make_exemplar_crops',
    'original_crop_roi_feats', 'pad_crops', 'roi_align_input_grad',
    'roi_feats_by_shape', 'whole_crop_roi_feats'
]
