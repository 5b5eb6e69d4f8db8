"""Case 6: a query whose image is absent.

The query list may name an image that is not a test image (not in
``frame_test.mat`` / ``pool.mat``), the image file may be missing, or the query
list itself may be missing: each is an error that names the file and the query.
"""
import os
import os.path as osp
import re

import pytest

from mmssl.datasets import CUHKSYSUDataset, PRWDataset
from mmssl.datasets.formats import (CUHKPersonBox, load_cuhk_test_protocol,
                                    save_cuhk_test_protocol)
from mmssl.testing import TINY_PRW_QUERIES, write_tiny_prw_root


@pytest.mark.parametrize('frame, why', [
    ('c2s1_000002', 'a train frame'),
    ('c9s9_999999', 'a frame of no split'),
])
def test_prw_query_in_a_frame_outside_the_test_split(tmp_path, frame, why):
    queries = list(TINY_PRW_QUERIES)
    queries.insert(1, (12, [20, 10, 12, 30], frame))
    root = write_tiny_prw_root(str(tmp_path / 'prw'), queries=queries)['root']
    with pytest.raises(ValueError) as info:
        PRWDataset(data_root=root, split='test')
    assert str(info.value) == (
        f'{osp.join(root, "query_info.txt")}: query 2 is in frame {frame}, '
        'which is not in frame_test.mat'), why


def test_prw_query_frame_file_missing(prw_root):
    path = osp.join(prw_root, 'frames', 'c3s1_000103.jpg')  # query 3's frame
    os.remove(path)
    with pytest.raises(FileNotFoundError,
                       match=f'^{re.escape(path)}: image file not found$'):
        PRWDataset(data_root=prw_root, split='test')


def test_prw_query_list_missing(prw_root):
    path = osp.join(prw_root, 'query_info.txt')
    os.remove(path)
    with pytest.raises(FileNotFoundError,
                       match=f'^{re.escape(path)}: file not found; expected '
                       'lines "pid x y w h name"$'):
        PRWDataset(data_root=prw_root, split='test')
    # the train split does not need it
    assert len(PRWDataset(data_root=prw_root, split='train')) == 4


def move_cuhk_query(root, index, image_name):
    path = osp.join(root, 'annotation', 'test', 'train_test', 'TestG100.mat')
    queries = load_cuhk_test_protocol(path, 'TestG100')
    query = queries[index].query
    queries[index] = queries[index]._replace(
        query=CUHKPersonBox(image_name, query.box, query.hard))
    save_cuhk_test_protocol(path, 'TestG100', queries)
    return path


@pytest.mark.parametrize('image', ['s1.jpg', 's99.jpg'],
                         ids=['train_image', 'unknown_image'])
def test_cuhk_query_in_an_image_outside_the_pool(cuhk_root, image):
    path = move_cuhk_query(cuhk_root, 2, image)
    with pytest.raises(ValueError) as info:
        CUHKSYSUDataset(data_root=cuhk_root, split='test')
    assert str(info.value) == (
        f'{path}: query 2 is in image {image}, which is not in pool.mat')


def test_cuhk_query_image_file_missing(cuhk_root):
    path = osp.join(cuhk_root, 'Image', 'SSM', 's12.jpg')  # query 2's image
    os.remove(path)
    with pytest.raises(FileNotFoundError,
                       match=f'^{re.escape(path)}: image file not found$'):
        CUHKSYSUDataset(data_root=cuhk_root, split='test')


def test_cuhk_protocol_file_missing(cuhk_root):
    path = osp.join(cuhk_root, 'annotation', 'test', 'train_test',
                    'TestG100.mat')
    os.remove(path)
    with pytest.raises(FileNotFoundError,
                       match=f'^{re.escape(path)}: file not found'):
        CUHKSYSUDataset(data_root=cuhk_root, split='test')
