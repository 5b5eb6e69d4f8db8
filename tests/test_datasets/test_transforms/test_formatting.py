"""PackPersonSearchInputs: the packed fields, meta keys and the alignment check."""
import numpy as np
import pytest
import torch

from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmssl.datasets.transforms import (PERSON_SEARCH_META_KEYS,
                                       PackPersonSearchInputs)


def results_with(num_boxes=2, **overrides):
    results = dict(
        img=np.zeros((8, 12, 3), np.uint8),
        img_id='a.jpg', img_path='/x/a.jpg', ori_shape=(8, 12),
        img_shape=(8, 12), scale_factor=(1.0, 1.0), flip=False,
        flip_direction=None, cam_id=3, is_query=True, query_index=5,
        gt_bboxes=HorizontalBoxes(torch.arange(num_boxes * 4.).view(-1, 4)),
        gt_bboxes_labels=np.zeros(num_boxes, np.int64),
        gt_ignore_flags=np.zeros(num_boxes, bool),
        gt_person_ids=np.arange(num_boxes, dtype=np.int64) + 10,
        gt_instance_indices=np.arange(num_boxes, dtype=np.int64) + 20,
        gt_masks=BitmapMasks(np.ones((num_boxes, 8, 12), np.uint8), 8, 12))
    results.update(overrides)
    return results


def test_packs_person_fields_and_meta():
    packed = PackPersonSearchInputs().transform(results_with())
    assert packed['inputs'].shape == (3, 8, 12)
    sample = packed['data_samples']
    gt = sample.gt_instances
    assert gt.person_ids.tolist() == [10, 11]
    assert gt.instance_indices.tolist() == [20, 21]
    assert gt.labels.tolist() == [0, 0]
    assert len(gt.masks) == 2 and gt.bboxes.tensor.shape == (2, 4)
    assert set(sample.metainfo) == set(PERSON_SEARCH_META_KEYS)
    assert sample.metainfo['cam_id'] == 3
    assert sample.metainfo['is_query'] is True
    assert sample.metainfo['query_index'] == 5


def test_misaligned_arrays_are_reported():
    results = results_with(gt_person_ids=np.array([1], np.int64))
    with pytest.raises(ValueError, match='/x/a.jpg: gt_person_ids has 1 '
                       'entries for 2 boxes'):
        PackPersonSearchInputs().transform(results)
    results = results_with(gt_instance_indices=np.array([], np.int64))
    with pytest.raises(ValueError, match='gt_instance_indices has 0'):
        PackPersonSearchInputs().transform(results)
