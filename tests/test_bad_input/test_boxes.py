"""Case 3: zero-area, inverted (negative w/h: x2 < x1) and out-of-image boxes.

The readers clip every box to its image and drop those with ``w <= 0``, ``h <= 0``
or no area left inside the image, with a logged count; a kept box keeps its
annotation row (its mask). Training never sees a dropped box: no record, no
memory row, no packed ground truth. A query box without area is an error. On the
test split PRW boxes are read as SeqNet reads them by default: every box is kept and
those without area inside the image are counted in a warning.
"""
import os.path as osp

import numpy as np
import pytest

from mmssl.datasets import CUHKSYSUDataset, PRWDataset
from mmssl.datasets.formats import (CUHKImageAnnotation, load_cuhk_images,
                                    load_cuhk_test_protocol, save_cuhk_images,
                                    save_cuhk_test_protocol)
from mmssl.testing import TINY_PRW_TEST, write_tiny_prw_root

# 96 x 64 frames; rows [pid, x, y, w, h]
BAD_BOXES = {
    'c1s1_000001': ('box_new', [
        [1, 10, 8, 12, 30],     # 0 valid
        [2, 40, 10, 0, 30],     # 1 zero width
        [3, 50, 10, 10, 0],     # 2 zero height
        [4, 60, 10, -8, 20],    # 3 inverted: x2 < x1
        [5, 30, 20, 10, -15],   # 4 inverted: y2 < y1
        [6, 100, 10, 10, 20],   # 5 right of the image
        [7, -30, 10, 20, 20],   # 6 left of the image
        [8, 85, 50, 20, 30],    # 7 past the bottom-right corner: clipped
        [9, -5, -6, 15, 20],    # 8 past the top-left corner: clipped
    ]),
    'c2s1_000002': ('box_new', [[1, 20, 10, 12, 30]]),
}
KEPT_BOXES = [[10, 8, 22, 38], [85, 50, 96, 64], [0, 0, 10, 14]]
KEPT_ROWS = [0, 7, 8]

TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPersonSearchAnnotations', with_fg_mask=True),
    dict(type='RandomChoiceResize', scales=[(192, 128)], keep_ratio=True),
    dict(type='RandomFlip', prob=1.0),
    dict(type='PackPersonSearchInputs'),
]


def test_prw_reader_drops_and_clips(tmp_path, captured_logs):
    root = write_tiny_prw_root(str(tmp_path / 'prw'), train=BAD_BOXES)['root']
    dataset = PRWDataset(data_root=root, split='train')
    record = dataset.get_data_info(0)
    assert [i['bbox'] for i in record['instances']] == KEPT_BOXES
    assert [i['ann_row'] for i in record['instances']] == KEPT_ROWS
    assert [i['person_id'] for i in record['instances']] == [1, 8, 9]
    assert dataset.num_instances == 4
    assert ('PRWDataset train: dropped 6 boxes (no area left inside the '
            'image)') in captured_logs


def test_training_never_sees_a_dropped_box(tmp_path):
    root = write_tiny_prw_root(str(tmp_path / 'prw'), train=BAD_BOXES)['root']
    dataset = PRWDataset(data_root=root, split='train', pipeline=TRAIN_PIPELINE)
    seen = []
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        height, width = sample.img_shape
        boxes = sample.gt_instances.bboxes.tensor.numpy()
        assert (boxes[:, 2] > boxes[:, 0]).all() and \
            (boxes[:, 3] > boxes[:, 1]).all()
        assert (boxes >= 0).all() and (boxes[:, [0, 2]] <= width).all() and \
            (boxes[:, [1, 3]] <= height).all()
        masks = sample.gt_instances.masks.to_ndarray()
        for box, mask in zip(boxes, masks):
            ys, xs = np.nonzero(mask)
            assert len(xs) and xs.min() >= np.floor(box[0]) and \
                xs.max() < np.ceil(box[2])
        seen += sample.gt_instances.instance_indices.tolist()
    assert sorted(seen) == list(range(dataset.num_instances)) == [0, 1, 2, 3]
    assert len(dataset.instance_table()['bboxes']) == 4


def test_prw_gallery_drops_them_too(tmp_path, captured_logs):
    test = {'c1s1_000201': BAD_BOXES['c1s1_000001'], **TINY_PRW_TEST}
    root = write_tiny_prw_root(str(tmp_path / 'prw'), test=test)['root']
    dataset = PRWDataset(data_root=root, split='test', box_reading='clipped')
    record = dataset.get_data_info(0)
    assert record['img_id'] == 'c1s1_000201.jpg'
    assert [i['bbox'] for i in record['instances']] == KEPT_BOXES
    assert ('PRWDataset test: dropped 6 boxes (no area left inside the '
            'image)') in captured_logs


def test_prw_gallery_keeps_them_as_seqnet_does(tmp_path, captured_logs):
    test = {'c1s1_000201': BAD_BOXES['c1s1_000001'], **TINY_PRW_TEST}
    root = write_tiny_prw_root(str(tmp_path / 'prw'), test=test)['root']
    record = PRWDataset(data_root=root, split='test').get_data_info(0)
    # x, y, w, h clipped at 0, then x2 = x + w, y2 = y + h
    assert [i['bbox'] for i in record['instances']] == [
        [10, 8, 22, 38], [40, 10, 40, 40], [50, 10, 60, 10], [60, 10, 60, 30],
        [30, 20, 40, 20], [100, 10, 110, 30], [0, 10, 20, 30], [85, 50, 105, 80],
        [0, 0, 15, 20]]
    assert ('PRWDataset test: kept 5 boxes without area inside the image '
            "(box_reading='seqnet' keeps every box, as SeqNet's reader does)"
            in captured_logs)


def test_prw_query_box_without_area_is_an_error(tmp_path):
    queries = [(10, [10, 10, 12, 30], 'c1s1_000101'),
               (11, [120, 8, 14, 34], 'c1s1_000101')]
    root = write_tiny_prw_root(str(tmp_path / 'prw'), queries=queries)['root']
    with pytest.raises(ValueError) as info:
        PRWDataset(data_root=root, split='test')
    assert str(info.value) == (
        f'{osp.join(root, "query_info.txt")}: query 2 has no area inside its '
        'frame c1s1_000101.jpg (box [120.0, 8.0, 14.0, 34.0])')


def test_cuhk_reader_drops_and_clips(cuhk_root, captured_logs):
    path = osp.join(cuhk_root, 'annotation', 'Images.mat')
    images = load_cuhk_images(path)
    extra = np.array([[-20., 10, 10, 20],    # left of the image
                      [90, 50, 20, 30],      # clipped to [90, 50, 96, 64]
                      [30, 40, 5, -2]])      # inverted
    images[0] = CUHKImageAnnotation(
        's1.jpg', np.vstack([images[0].boxes, extra]), np.zeros(6, bool))
    save_cuhk_images(path, images)
    dataset = CUHKSYSUDataset(data_root=cuhk_root, split='train')
    record = dataset.get_data_info(0)
    assert [i['bbox'] for i in record['instances']] == [
        [10, 8, 22, 38], [40, 10, 54, 42], [70, 20, 80, 45], [90, 50, 96, 64]
    ]
    assert [i['ann_row'] for i in record['instances']] == [0, 1, 2, 4]
    # s3 (w = 0), s4 (h < 0), and two of the new boxes of s1
    assert ('CUHKSYSUDataset train: dropped 4 boxes (w or h <= 0)'
            in captured_logs)


def test_cuhk_query_box_without_area_is_an_error(cuhk_root):
    path = osp.join(cuhk_root, 'annotation', 'test', 'train_test',
                    'TestG100.mat')
    queries = load_cuhk_test_protocol(path, 'TestG100')
    query = queries[1].query._replace(box=np.array([50., 8, 0, 34]))
    queries[1] = queries[1]._replace(query=query)
    save_cuhk_test_protocol(path, 'TestG100', queries)
    with pytest.raises(ValueError, match=r'TestG100.mat: query 1 box '
                       r'\[50.0, 8.0, 0.0, 34.0\] has no area'):
        CUHKSYSUDataset(data_root=cuhk_root, split='test')
