"""Building blocks: the C4 RoI stage and the exemplar branch's crops and batching."""
from .crop_canvas import CropCanvas, canvas_compatible, canvas_feature_maps
from .crop_roi_align import roi_feats_by_shape, whole_crop_roi_feats
from .exemplar_crops import bucket_crops, make_exemplar_crops, pad_crops
from .frozen_bn_statistics import frozen_bn_statistics
from .res_stage_head import ResStageHead

__all__ = [
    'CropCanvas', 'ResStageHead', 'bucket_crops', 'canvas_compatible',
    'canvas_feature_maps',
    'frozen_bn_statistics', 'make_exemplar_crops', 'pad_crops',
    'roi_feats_by_shape', 'whole_crop_roi_feats'
]
