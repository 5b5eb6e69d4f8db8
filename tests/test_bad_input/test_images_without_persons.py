"""Case 4: an image with no persons (no box, or no valid box).

Train split: skipped with a logged count (it has nothing to learn from and no
memory row). Test split: kept as a gallery image (it holds no positive, and a
detector that fires there must pay for it in the ranking).
"""
import os.path as osp

import numpy as np
import pytest
import scipy.io
from mmengine.dataset import Compose

from mmssl.datasets import CUHKSYSUDataset, PRWDataset
from mmssl.testing import write_tiny_prw_root

TRAIN = {
    'c1s1_000001': ('box_new', [[1, 10, 8, 12, 30], [2, 40, 10, 14, 32]]),
    'c2s1_000002': ('box_new', []),                           # no person
    'c3s1_000003': ('box_new', [[3, 20, 10, 0, 30],          # only boxes
                                [-2, 120, 10, 10, 20]]),      # without area
    'c1s1_000004': ('anno_file', [[2, 30, 15, 13, 33]]),
}
TEST = {
    'c1s1_000101': ('box_new', [[10, 10, 10, 12, 30]]),
    'c2s1_000102': ('box_new', []),                           # no person
    'c3s1_000103': ('box_new', [[10, 20, 6, 14, 34]]),
}
QUERIES = [(10, [10, 10, 12, 30], 'c1s1_000101')]

TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPersonSearchAnnotations'),
    dict(type='Resize', scale=(192, 128), keep_ratio=True),
    dict(type='PackPersonSearchInputs'),
]


@pytest.fixture
def root(tmp_path):
    return write_tiny_prw_root(str(tmp_path / 'prw'), train=TRAIN, test=TEST,
                               queries=QUERIES)['root']


def test_prw_train_skips_them_with_a_logged_count(root, captured_logs):
    dataset = PRWDataset(data_root=root, split='train')
    assert [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))] \
        == ['c1s1_000001.jpg', 'c1s1_000004.jpg']
    assert dataset.num_instances == 3
    assert dataset.instance_table()['image_index'].tolist() == [0, 0, 1]
    assert 'PRWDataset: skipped 2 train images with no valid box' in \
        captured_logs
    assert any('dropped 2 boxes' in m for m in captured_logs)


def test_prw_train_keeps_them_when_asked(root, captured_logs):
    dataset = PRWDataset(data_root=root, split='train',
                         filter_cfg=dict(filter_empty_gt=False))
    assert len(dataset) == 4
    assert dataset.num_instances == 3
    assert not any('skipped' in m for m in captured_logs)


def test_prw_gallery_keeps_them(root):
    dataset = PRWDataset(data_root=root, split='test', pipeline=TEST_PIPELINE)
    protocol = dataset.metainfo['search_protocol']
    assert protocol['gallery_img_ids'] == [
        'c1s1_000101.jpg', 'c2s1_000102.jpg', 'c3s1_000103.jpg'
    ]
    empty = dataset.get_data_info(1)
    assert empty['instances'] == [] and not empty['is_query']
    # the gallery image loads and packs with zero ground-truth boxes
    packed = dataset[1]
    assert packed['data_samples'].img_id == 'c2s1_000102.jpg'
    assert len(packed['data_samples'].gt_instances) == 0
    assert tuple(packed['inputs'].shape[1:]) == (128, 192)
    assert len(dataset) == 3 + 1  # gallery + one query


def write_images_mat_with_empty_box(root, name, empty):
    """Rewrite ``Images.mat`` so that image ``name`` has ``box = empty``."""
    path = osp.join(root, 'annotation', 'Images.mat')
    img = scipy.io.loadmat(path)['Img']
    for i in range(img.shape[1]):
        if str(img[0, i]['imname'][0]) == name:
            img[0, i]['box'] = empty
            img[0, i]['nAppear'] = np.array([[0.0]])
    scipy.io.savemat(path, {'Img': img})


@pytest.mark.parametrize('empty', [np.zeros((0, 0)), np.zeros((1, 0))],
                         ids=['matlab_empty', 'zero_by_one'])
def test_cuhk_image_without_persons(cuhk_root, captured_logs, empty):
    # s14.jpg is a gallery image that no query uses as a positive
    write_images_mat_with_empty_box(cuhk_root, 's14.jpg', empty)
    write_images_mat_with_empty_box(cuhk_root, 's3.jpg', empty)
    train = CUHKSYSUDataset(data_root=cuhk_root, split='train')
    train_ids = [train.get_data_info(i)['img_id'] for i in range(len(train))]
    assert train_ids == ['s1.jpg', 's2.jpg']  # s3 (emptied), s4 (h < 0) skipped
    assert any('skipped 2 train images with no valid box' in m
               for m in captured_logs)
    test = CUHKSYSUDataset(data_root=cuhk_root, split='test')
    ids = test.metainfo['search_protocol']['gallery_img_ids']
    record = test.get_data_info(ids.index('s14.jpg'))
    assert record['img_id'] == 's14.jpg' and record['instances'] == []


def test_every_record_of_the_tiny_gallery_runs_the_test_pipeline(root):
    dataset = PRWDataset(data_root=root, split='test',
                         pipeline=Compose(TEST_PIPELINE).transforms)
    counts = [len(dataset[i]['data_samples'].gt_instances)
              for i in range(len(dataset))]
    assert counts == [1, 0, 1, 1]
