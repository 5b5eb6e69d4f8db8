"""Building blocks: the C4 RoI stage and the exemplar crop maker."""
from .exemplar_crops import bucket_crops, make_exemplar_crops, pad_crops
from .res_stage_head import ResStageHead

__all__ = ['ResStageHead', 'bucket_crops', 'make_exemplar_crops', 'pad_crops']
