"""Loading the person-search annotations of a record into the pipeline."""
from typing import Optional

import numpy as np

from mmdet.datasets.transforms import LoadAnnotations
from mmdet.registry import TRANSFORMS

from .foreground_masks import LoadForegroundMasks


@TRANSFORMS.register_module()
class LoadPersonSearchAnnotations(LoadAnnotations):
    """mmdet's ``LoadAnnotations`` plus the per-box person-search arrays.

    Adds to the results (``docs/internals.md`` section 3), in the order of
    ``gt_bboxes``:

    * ``gt_person_ids``: ``(n,)`` int64 ``person_id`` (diagnostics/evaluation);
    * ``gt_instance_indices``: ``(n,)`` int64 ``instance_index`` (memory rows);
    * with ``with_fg_mask=True``: ``gt_masks`` (:class:`BitmapMasks`, one
      full-image foreground mask per box), computed by
      :class:`LoadForegroundMasks` with ``mask_source`` / ``mask_fallback``.

    mmdet's ``Resize``, ``RandomChoiceResize``, ``RandomFlip`` and ``Pad`` keep
    these arrays aligned with the boxes (they never drop a box). Transforms that
    drop boxes (``RandomCrop``, ``MinIoURandomCrop``, ``RandomCenterCropPad``,
    ``RandomAffine``, ``RandomShift``, ``RandomErasing``, ``FilterAnnotations``,
    ``Mosaic``, ``MixUp``, ``CachedMosaic``, ``CachedMixUp``, ``CopyPaste``) do
    not know these keys and must not be used; ``PackPersonSearchInputs`` raises
    an error when the lengths disagree.

    Args:
        with_fg_mask: also load foreground masks into ``gt_masks``.
        mask_source: ``'file'``, ``'grabcut'`` or ``'box'`` (see
            :class:`LoadForegroundMasks`).
        mask_fallback: None or ``'box'`` (see :class:`LoadForegroundMasks`).
        **kwargs: ``LoadAnnotations`` arguments (``with_bbox``, ``with_label``,
            ``box_type``, ``backend_args``, ...); its polygon ``with_mask`` is not
            supported (person-search records carry no polygons).
    """

    def __init__(self,
                 with_fg_mask: bool = False,
                 mask_source: str = 'file',
                 mask_fallback: Optional[str] = None,
                 **kwargs) -> None:
        if kwargs.get('with_mask'):
            raise ValueError('LoadPersonSearchAnnotations: with_mask (COCO '
                             'polygons) is not supported; use with_fg_mask=True')
        super().__init__(**kwargs)
        self.with_fg_mask = with_fg_mask
        self.mask_loader = LoadForegroundMasks(
            source=mask_source,
            fallback=mask_fallback,
            backend_args=self.backend_args) if with_fg_mask else None

    def transform(self, results: dict) -> dict:
        """Load boxes, labels, person ids, instance indices and masks."""
        results = super().transform(results)
        instances = results.get('instances', [])
        results['gt_person_ids'] = np.array(
            [inst.get('person_id', -1) for inst in instances], dtype=np.int64)
        results['gt_instance_indices'] = np.array(
            [inst.get('instance_index', -1) for inst in instances],
            dtype=np.int64)
        if self.mask_loader is not None:
            results = self.mask_loader.transform(results)
        return results

    def __repr__(self) -> str:
        mask = repr(self.mask_loader) if self.mask_loader else 'None'
        return (f'{type(self).__name__}(with_bbox={self.with_bbox}, '
                f'with_label={self.with_label}, with_fg_mask={self.with_fg_mask}, '
                f'mask_loader={mask})')
