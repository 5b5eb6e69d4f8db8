"""Packing a person-search sample into mmdet's ``DetDataSample``."""
from typing import Sequence

from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import TRANSFORMS

PERSON_SEARCH_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape',
                           'scale_factor', 'flip', 'flip_direction', 'cam_id',
                           'is_query', 'query_index')

PER_BOX_KEYS = ('gt_bboxes_labels', 'gt_ignore_flags', 'gt_person_ids',
                'gt_instance_indices', 'gt_masks')


@TRANSFORMS.register_module()
class PackPersonSearchInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` that also packs the person-search arrays.

    ``data_samples.gt_instances`` gets ``bboxes``, ``labels``, ``person_ids``,
    ``instance_indices`` and (when loaded) ``masks``; the meta keys default to
    ``img_id, img_path, ori_shape, img_shape, scale_factor, flip, flip_direction,
    cam_id, is_query, query_index`` (``docs/internals.md`` section 3).

    Before packing it checks that every per-box array has one entry per box and
    raises an error naming the image when not (a transform that drops boxes
    without knowing ``gt_person_ids``/``gt_instance_indices`` ran before it).

    Args:
        meta_keys: the meta keys to pack.
    """

    mapping_table = dict(
        PackDetInputs.mapping_table,
        gt_person_ids='person_ids',
        gt_instance_indices='instance_indices')

    def __init__(self,
                 meta_keys: Sequence[str] = PERSON_SEARCH_META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Check the per-box arrays are aligned, then pack."""
        if 'gt_bboxes' in results:
            num_boxes = len(results['gt_bboxes'])
            for key in PER_BOX_KEYS:
                if key in results and len(results[key]) != num_boxes:
                    raise ValueError(
                        f'{results.get("img_path", "?")}: {key} has '
                        f'{len(results[key])} entries for {num_boxes} boxes; a '
                        'transform dropped boxes without updating it (mmdet '
                        'transforms that drop boxes, e.g. RandomCrop, '
                        'FilterAnnotations, MinIoURandomCrop, Mosaic, do not '
                        'know the person-search keys)')
        return super().transform(results)
