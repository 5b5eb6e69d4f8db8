"""Foreground masks: instance-index files, boxes, GrabCut; their errors."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmdet.structures.mask import BitmapMasks
from mmssl.datasets import PRWDataset
from mmssl.datasets.transforms import (LoadForegroundMasks, box_masks,
                                       grabcut_mask, masks_from_instance_map)


def test_masks_from_instance_map():
    instance_map = np.array([[0, 1, 1], [2, 2, 0], [3, 0, 1]], np.uint8)
    masks = masks_from_instance_map(instance_map, [1, 0, -1, 2])
    assert masks.shape == (4, 3, 3) and masks.dtype == np.uint8
    assert masks[0].tolist() == [[0, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert masks[1].tolist() == [[0, 1, 1], [0, 0, 0], [0, 0, 1]]
    assert masks[2].sum() == 0  # no annotation row: empty
    assert masks[3].tolist() == [[0, 0, 0], [0, 0, 0], [1, 0, 0]]


def test_box_masks_cover_touched_pixels():
    masks = box_masks(np.array([[1.5, 0, 3, 2], [-2, -2, 1, 1]]), 3, 4)
    assert masks[0].tolist() == [[0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    assert masks[1].tolist() == [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert box_masks(np.zeros((0, 4)), 3, 4).shape == (0, 3, 4)


def synthetic_person(height=80, width=80):
    """A bright ellipse on a dark textured background, and its true mask."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 60, size=(height, width, 3), dtype=np.uint8)
    truth = np.zeros((height, width), np.uint8)
    cv2.ellipse(truth, (40, 40), (10, 25), 0, 0, 360, 1, -1)
    image[truth > 0] = (200, 180, 160)
    return image, truth


def test_grabcut_finds_the_person_and_is_deterministic():
    image, truth = synthetic_person()
    box = [28, 12, 53, 68]
    mask = grabcut_mask(image, box)
    assert mask.shape == truth.shape and mask.dtype == np.uint8
    inter = np.logical_and(mask, truth).sum()
    union = np.logical_or(mask, truth).sum()
    assert inter / union > 0.8
    assert mask[:, :28].sum() == 0 and mask[:, 53:].sum() == 0  # inside box
    box_area = box_masks(np.array([box]), 80, 80)[0].sum()
    assert mask.sum() < 0.95 * box_area  # not simply the box
    np.testing.assert_array_equal(mask, grabcut_mask(image, box))


def test_grabcut_falls_back_to_the_box():
    image, _ = synthetic_person()
    whole = grabcut_mask(image, [0, 0, 80, 80])  # no background around it
    assert whole.all()
    tiny = grabcut_mask(image, [10, 10, 11, 30])
    np.testing.assert_array_equal(
        tiny, box_masks(np.array([[10, 10, 11, 30]]), 80, 80)[0])


def record_of(prw_root, index=0):
    dataset = PRWDataset(data_root=prw_root, split='train')
    return dataset.get_data_info(index)


def test_file_source_reads_one_mask_per_box(prw_root):
    record = record_of(prw_root, 1)  # c2s1_000002: clipped box on row 0
    results = LoadForegroundMasks(source='file').transform(dict(record))
    masks = results['gt_masks']
    assert isinstance(masks, BitmapMasks)
    assert masks.masks.shape == (2, 64, 96)
    for mask, inst in zip(masks.masks, record['instances']):
        x1, y1, x2, y2 = (int(v) for v in inst['bbox'])
        assert mask.sum() > 0.5 * (x2 - x1) * (y2 - y1)  # an ellipse
        outside = mask.copy()
        outside[y1:y2, x1:x2] = 0
        assert outside.sum() == 0


def test_file_source_uses_ann_row(prw_root):
    # c3s1_000003 keeps only annotation row 0 (row 1 had w = 0)
    record = record_of(prw_root, 2)
    record['instances'][0]['ann_row'] = 1  # pretend it was row 1: empty mask
    masks = LoadForegroundMasks().transform(dict(record))['gt_masks']
    assert masks.masks.sum() == 0


def test_missing_mask_is_an_error_naming_the_image(prw_root):
    record = record_of(prw_root)
    record['fg_mask_path'] = None
    with pytest.raises(FileNotFoundError,
                       match='c1s1_000001.jpg: no foreground mask: it has no '
                       'fg_mask_path'):
        LoadForegroundMasks().transform(dict(record))
    record['fg_mask_path'] = osp.join(prw_root, 'masks', 'gone.png')
    with pytest.raises(FileNotFoundError, match='gone.png is missing'):
        LoadForegroundMasks().transform(dict(record))
    masks = LoadForegroundMasks(fallback='box').transform(
        dict(record))['gt_masks']
    np.testing.assert_array_equal(
        masks.masks, box_masks(np.array(
            [i['bbox'] for i in record['instances']]), 64, 96))


def test_mask_of_the_wrong_size(prw_root, tmp_path):
    record = record_of(prw_root)
    path = str(tmp_path / 'small.png')
    cv2.imwrite(path, np.zeros((10, 10), np.uint8))
    record['fg_mask_path'] = path
    with pytest.raises(ValueError, match=r'small.png: mask of shape \(10, 10\) '
                       r'for image .*c1s1_000001.jpg of shape \(64, 96\)'):
        LoadForegroundMasks().transform(dict(record))
    cv2.imwrite(path, np.zeros((64, 96, 3), np.uint8))
    with pytest.raises(ValueError, match='single-channel'):
        LoadForegroundMasks().transform(dict(record))


def test_box_without_annotation_row(prw_root):
    record = record_of(prw_root)
    record['instances'][1]['ann_row'] = -1
    with pytest.raises(ValueError, match='1 boxes have no annotation row'):
        LoadForegroundMasks().transform(dict(record))
    masks = LoadForegroundMasks(fallback='box').transform(
        dict(record))['gt_masks'].masks
    assert masks[1].sum() == 14 * 32  # the whole box [40, 10, 54, 42]
    assert 0 < masks[0].sum() < 12 * 30


def test_box_and_grabcut_sources(prw_root):
    record = record_of(prw_root)
    masks = LoadForegroundMasks(source='box').transform(
        dict(record))['gt_masks'].masks
    assert masks.sum(axis=(1, 2)).tolist() == [12 * 30, 14 * 32, 10 * 25]
    with pytest.raises(ValueError, match='GrabCut masks need the original'):
        LoadForegroundMasks(source='grabcut').transform(dict(record))
    results = dict(record, img=cv2.imread(record['img_path']),
                   ori_shape=(64, 96))
    masks = LoadForegroundMasks(source='grabcut').transform(
        results)['gt_masks'].masks
    assert masks.shape == (3, 64, 96) and masks.sum() > 0


def test_arguments_are_checked():
    with pytest.raises(ValueError, match='source must be one of'):
        LoadForegroundMasks(source='parser')
    with pytest.raises(ValueError, match='fallback must be None or'):
        LoadForegroundMasks(fallback='grabcut')
