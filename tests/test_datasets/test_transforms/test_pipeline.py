"""The transforms end to end through mmengine's Compose (mmdet scope).

mmdet's Resize/RandomChoiceResize/RandomFlip/Pad must keep boxes, masks, person ids
and instance indices aligned; a box-dropping transform must be caught at packing.
"""
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from mmssl.datasets import CUHKSYSUDataset, PRWDataset


@pytest.fixture(autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


def train_pipeline(flip_prob=1.0):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadPersonSearchAnnotations', with_fg_mask=True),
        dict(type='RandomChoiceResize', scales=[(192, 128)], keep_ratio=True),
        dict(type='RandomFlip', prob=flip_prob),
        dict(type='Pad', size_divisor=40),
        dict(type='PackPersonSearchInputs'),
    ]


def mask_extents(masks):
    extents = []
    for mask in masks:
        ys, xs = np.nonzero(mask)
        extents.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return np.array(extents, dtype=np.float32)


@pytest.mark.parametrize('flip_prob', [0.0, 1.0])
def test_resize_flip_pad_keep_everything_aligned(prw_root, flip_prob):
    dataset = PRWDataset(data_root=prw_root, split='train',
                         pipeline=train_pipeline(flip_prob))
    record = dataset.get_data_info(0)
    packed = dataset[0]
    assert packed['inputs'].shape == (3, 160, 200)  # 128 x 192 padded to /40
    sample = packed['data_samples']
    gt = sample.gt_instances
    expected = np.array([inst['bbox'] for inst in record['instances']],
                        np.float32) * 2
    if flip_prob:
        expected[:, [0, 2]] = 192 - expected[:, [2, 0]]
    np.testing.assert_array_equal(gt.bboxes.numpy(), expected)
    assert gt.person_ids.tolist() == [1, 2, -2]
    assert gt.instance_indices.tolist() == [0, 1, 2]
    assert gt.masks.masks.shape == (3, 160, 200)
    # every mask still lies exactly inside its own (transformed) box
    np.testing.assert_array_equal(mask_extents(gt.masks.masks), expected)
    meta = sample.metainfo
    # mmdet's Pad reports the padded shape as img_shape
    assert meta['img_shape'] == (160, 200) and meta['ori_shape'] == (64, 96)
    assert meta['scale_factor'] == (2.0, 2.0)
    assert meta['flip'] is bool(flip_prob)
    assert (meta['img_id'], meta['cam_id'], meta['is_query'],
            meta['query_index']) == ('c1s1_000001.jpg', 1, False, -1)


def test_flip_after_multi_box_record_cuhk(cuhk_root):
    dataset = CUHKSYSUDataset(data_root=cuhk_root, split='train',
                              pipeline=train_pipeline(1.0))
    gt = dataset[1]['data_samples'].gt_instances
    assert gt.person_ids.tolist() == [1, -1]
    assert gt.instance_indices.tolist() == [3, 4]
    np.testing.assert_array_equal(mask_extents(gt.masks.masks),
                                  gt.bboxes.numpy())


def test_test_pipeline_for_queries(prw_root):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(144, 96), keep_ratio=True),
        dict(type='LoadPersonSearchAnnotations'),
        dict(type='PackPersonSearchInputs'),
    ]
    dataset = PRWDataset(data_root=prw_root, split='test', pipeline=pipeline)
    packed = dataset[8]  # query 2
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, 96, 144)
    assert sample.metainfo['is_query'] is True
    assert sample.metainfo['query_index'] == 2
    assert sample.gt_instances.person_ids.tolist() == [12]
    # annotations loaded after Resize stay in original image coordinates
    np.testing.assert_array_equal(sample.gt_instances.bboxes.numpy(),
                                  [[60, 10, 72, 46]])


def test_box_dropping_transform_is_caught(prw_root):
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadPersonSearchAnnotations'),
        dict(type='FilterAnnotations', min_gt_bbox_wh=(11, 11)),
        dict(type='PackPersonSearchInputs'),
    ])
    record = PRWDataset(data_root=prw_root, split='train').get_data_info(0)
    with pytest.raises(ValueError, match='gt_person_ids has 3 entries for 2 '
                       'boxes'):
        pipeline(record)
