"""Person-search transforms, registered in ``mmdet.registry.TRANSFORMS``."""
from .foreground_masks import (LoadForegroundMasks, box_masks, grabcut_mask,
                               masks_from_instance_map)
from .formatting import PERSON_SEARCH_META_KEYS, PackPersonSearchInputs
from .loading import LoadPersonSearchAnnotations

__all__ = [
    'LoadForegroundMasks', 'LoadPersonSearchAnnotations',
    'PackPersonSearchInputs', 'PERSON_SEARCH_META_KEYS', 'box_masks',
    'grabcut_mask', 'masks_from_instance_map'
]
