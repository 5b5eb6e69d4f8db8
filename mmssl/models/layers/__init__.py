"""Building blocks: the C4 RoI stage and the exemplar crop maker."""
from .exemplar_crops import bucket_crops, make_exemplar_crops, pad_crops
from .frozen_bn_statistics import frozen_bn_statistics
from .res_stage_head import ResStageHead

__all__ = [
    'ResStageHead', 'bucket_crops', 'frozen_bn_statistics', 'make_exemplar_crops',
    'pad_crops'
]
