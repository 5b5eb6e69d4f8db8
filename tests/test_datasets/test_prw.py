"""PRWDataset on the tiny PRW root: records, protocols, malformed files."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest

from mmdet.registry import DATASETS
from mmssl.datasets import PRWDataset
from mmssl.datasets.prw import parse_prw_camera
from mmssl.testing import write_tiny_prw_root


def boxes_of(record):
    return [inst['bbox'] for inst in record['instances']]


def test_train_records(prw_root, captured_logs):
    dataset = PRWDataset(data_root=prw_root, split='train')
    records = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [r['img_id'] for r in records] == [
        'c1s1_000001.jpg', 'c2s1_000002.jpg', 'c3s1_000003.jpg',
        'c2s1_000005.jpg'
    ]
    assert [r['cam_id'] for r in records] == [1, 2, 3, 2]
    assert all((r['height'], r['width']) == (64, 96) for r in records)
    assert boxes_of(records[0]) == [[10, 8, 22, 38], [40, 10, 54, 42],
                                    [70, 20, 80, 45]]
    # negative x clipped to 0
    assert boxes_of(records[1]) == [[0, 5, 8, 35], [50, 12, 65, 52]]
    # the w = 0 row is dropped, the kept box keeps its annotation row
    assert boxes_of(records[2]) == [[20, 10, 32, 40]]
    # past the right and bottom edges: clipped to 96 x 64
    assert boxes_of(records[3]) == [[30, 15, 43, 48], [80, 30, 96, 64]]
    instances = [inst for r in records for inst in r['instances']]
    assert [i['instance_index'] for i in instances] == list(range(8))
    assert [i['person_id'] for i in instances] == [1, 2, -2, 1, 3, 2, 1, -2]
    assert [i['ann_row'] for i in instances] == [0, 1, 2, 0, 1, 0, 0, 1]
    assert all(i['bbox_label'] == 0 and i['ignore_flag'] == 0
               for i in instances)
    assert dataset.num_instances == 8
    assert all(not r['is_query'] and r['query_index'] == -1 for r in records)
    assert records[0]['img_path'] == osp.join(prw_root, 'frames',
                                              'c1s1_000001.jpg')
    assert records[0]['fg_mask_path'] == osp.join(prw_root, 'masks',
                                                  'c1s1_000001.png')
    assert 'search_protocol' not in dataset.metainfo
    assert dataset.metainfo['classes'] == ('person', )
    assert any('dropped 2 boxes' in m for m in captured_logs)
    assert any('skipped 1 train images' in m for m in captured_logs)


def test_test_records_and_queries(prw_root):
    dataset = PRWDataset(data_root=prw_root, split='test')
    assert len(dataset) == 6 + 3
    gallery = [dataset.get_data_info(i) for i in range(6)]
    assert [r['cam_id'] for r in gallery] == [1, 2, 3, 1, 2, 3]
    assert gallery[4]['instances'] == []  # frame without persons kept
    # SeqNet's reading: y clipped at 0 before y2 = y + h
    assert boxes_of(gallery[5]) == [[40, 0, 54, 34]]
    assert all(inst['instance_index'] == -1 for r in gallery
               for inst in r['instances'])
    assert dataset.num_instances == 0
    queries = [dataset.get_data_info(6 + q) for q in range(3)]
    assert [q['is_query'] for q in queries] == [True] * 3
    assert [q['query_index'] for q in queries] == [0, 1, 2]
    assert [q['img_id'] for q in queries] == [
        'c1s1_000101.jpg', 'c1s1_000101.jpg', 'c3s1_000103.jpg'
    ]
    assert [q['cam_id'] for q in queries] == [1, 1, 3]
    assert [boxes_of(q) for q in queries] == [[[10, 10, 22, 40]],
                                              [[50, 8, 64, 42]],
                                              [[60, 10, 72, 46]]]
    assert [q['instances'][0]['person_id'] for q in queries] == [10, 11, 12]
    assert [q['instances'][0]['ann_row'] for q in queries] == [0, 1, 1]
    assert queries[0]['fg_mask_path'] == gallery[0]['fg_mask_path']

    protocol = dataset.metainfo['search_protocol']
    assert protocol['gallery_img_ids'] == [r['img_id'] for r in gallery]
    assert protocol['default'] == 'single_view'
    assert protocol['queries'][2] == dict(img_id='c3s1_000103.jpg', cam_id=3,
                                          person_id=12,
                                          bbox=[60.0, 10.0, 72.0, 46.0])
    assert protocol['galleries'] == {
        'single_view': dict(gallery=None, exclude_same_camera=False,
                            positives=None),
        'multi_view': dict(gallery=None, exclude_same_camera=True,
                           positives=None),
    }


def test_box_readings_of_negative_fractional_and_overhanging_boxes(tmp_path,
                                                                 captured_logs):
    # 96 x 64 frames; rows [pid, x, y, w, h]
    test = {
        'c1s1_000101': ('box_new', [[10, -3.5, 2.7, 12.6, 30.2],   # negative, fractional
                                    [11, 90.4, 10, 12, 30],        # past the right edge
                                    [-2, 50, 10, 0, 30]]),         # w = 0
        'c2s1_000102': ('box_new', [[10, 30, 12, 12, 30]]),
    }
    queries = [(10, [-3.5, 2.7, 12.6, 30.2], 'c1s1_000101'),
               (10, [30, 12, 12, 30], 'c2s1_000102')]
    root = write_tiny_prw_root(str(tmp_path / 'prw'), test=test, queries=queries,
                               with_masks=False)['root']
    seqnet = PRWDataset(data_root=root, split='test')
    assert seqnet.box_reading == 'seqnet'
    # clip x, y, w, h at 0; x2 = x + w, y2 = y + h; truncate: every box kept
    assert boxes_of(seqnet.get_data_info(0)) == [[0, 2, 12, 32], [90, 10, 102, 40],
                                                 [50, 10, 50, 40]]
    assert ("PRWDataset test: kept 1 boxes without area inside the image "
            "(box_reading='seqnet' keeps every box, as SeqNet's reader does)"
            in captured_logs)
    # a query is truncated first ([-3, 2, 9, 32]) and clipped at 0 after
    protocol = seqnet.metainfo['search_protocol']
    assert protocol['queries'][0]['bbox'] == [0.0, 2.0, 9.0, 32.0]
    assert boxes_of(seqnet.get_data_info(2)) == [[0.0, 2.0, 9.0, 32.0]]
    assert seqnet.get_data_info(2)['instances'][0]['ann_row'] == 0

    clipped = PRWDataset(data_root=root, split='test', box_reading='clipped')
    np.testing.assert_allclose(boxes_of(clipped.get_data_info(0)),
                               [[0, 2.7, 9.1, 32.9], [90.4, 10, 96, 40]])
    np.testing.assert_allclose(clipped.metainfo['search_protocol']['queries'][0]['bbox'],
                               [0, 2.7, 9.1, 32.9])
    # the train split reads 'clipped' unless told otherwise
    assert PRWDataset(data_root=root, split='train').box_reading == 'clipped'
    with pytest.raises(ValueError, match="box_reading must be one of"):
        PRWDataset(data_root=root, split='test', box_reading='float')


def test_test_split_without_reading_any_image(tmp_path):
    root = write_tiny_prw_root(str(tmp_path / 'prw'), with_masks=False)['root']
    with_images = PRWDataset(data_root=root, split='test')
    shutil.rmtree(osp.join(root, 'frames'))
    without = PRWDataset(data_root=root, split='test', read_image_sizes=False)
    assert without.metainfo['search_protocol'] == with_images.metainfo['search_protocol']
    for index in range(len(without)):
        record, reference = without.get_data_info(index), with_images.get_data_info(index)
        assert (record['height'], record['width']) == (-1, -1)
        assert record['instances'] == reference['instances']
    with pytest.raises(ValueError, match="box_reading='clipped' clips the boxes"):
        PRWDataset(data_root=root, split='test', read_image_sizes=False,
                   box_reading='clipped')
    # images are needed where the reader clips to them (the train split's default)
    with pytest.raises(ValueError, match='needs its size'):
        PRWDataset(data_root=root, split='train', read_image_sizes=False)
    with pytest.raises(FileNotFoundError, match='image file not found'):
        PRWDataset(data_root=root, split='test')


def test_protocol_contents(prw_root, expand_protocol):
    dataset = PRWDataset(data_root=prw_root, split='test')
    ids = ['c1s1_000101.jpg', 'c2s1_000102.jpg', 'c3s1_000103.jpg',
           'c1s1_000104.jpg', 'c2s1_000105.jpg', 'c3s1_000106.jpg']
    single = expand_protocol(dataset, 'single_view')
    multi = expand_protocol(dataset, 'multi_view')
    assert single[0] == (set(ids) - {ids[0]}, {ids[1], ids[3]})
    assert multi[0] == ({ids[1], ids[2], ids[4], ids[5]}, {ids[1]})
    assert single[1][1] == {ids[2], ids[5]}
    assert multi[1][1] == {ids[2], ids[5]}  # both in camera 3
    assert single[2] == (set(ids) - {ids[2]}, {ids[3]})
    assert multi[2] == ({ids[0], ids[1], ids[3], ids[4]}, {ids[3]})


def test_default_protocol_option(prw_root):
    dataset = PRWDataset(data_root=prw_root, split='test',
                         default_protocol='multi_view')
    assert dataset.metainfo['search_protocol']['default'] == 'multi_view'
    with pytest.raises(ValueError, match='default_protocol'):
        PRWDataset(data_root=prw_root, split='test', default_protocol='x')


def test_built_from_the_registry(prw_root):
    dataset = DATASETS.build(
        dict(type='PRWDataset', data_root=prw_root, split='train',
             pipeline=[]))
    assert isinstance(dataset, PRWDataset) and len(dataset) == 4


def test_scaled_fixture(tmp_path):
    root = write_tiny_prw_root(str(tmp_path), height=128, width=192,
                               with_masks=False)['root']
    dataset = PRWDataset(data_root=root, split='train')
    record = dataset.get_data_info(0)
    assert (record['height'], record['width']) == (128, 192)
    assert boxes_of(record)[0] == [20, 16, 44, 76]
    assert record['fg_mask_path'] is None


def test_camera_parsing():
    assert parse_prw_camera('c3s2_012345') == 3
    assert parse_prw_camera('frames/c12s1_000001.jpg') == 12
    with pytest.raises(ValueError, match="'x1s1_000001'"):
        parse_prw_camera('x1s1_000001')


# ------------------------------------------------------------- malformed roots


@pytest.fixture
def fresh_root(tmp_path):
    return write_tiny_prw_root(str(tmp_path / 'prw'), with_masks=False)['root']


def test_missing_annotation_file(fresh_root):
    path = osp.join(fresh_root, 'annotations', 'c2s1_000002.jpg.mat')
    os.remove(path)
    with pytest.raises(FileNotFoundError, match='c2s1_000002.jpg.mat'):
        PRWDataset(data_root=fresh_root, split='train')


def test_missing_frame(fresh_root):
    os.remove(osp.join(fresh_root, 'frames', 'c1s1_000104.jpg'))
    with pytest.raises(FileNotFoundError, match='c1s1_000104.jpg'):
        PRWDataset(data_root=fresh_root, split='test')


@pytest.mark.parametrize('parts,arrays,split,match', [
    (('annotations', 'c1s1_000001.jpg.mat'), {'boxes': np.zeros((1, 5))},
     'train', 'c1s1_000001.jpg.mat: none of the keys'),
    (('annotations', 'c1s1_000001.jpg.mat'), {'box_new': np.zeros((2, 4))},
     'train', 'c1s1_000001.jpg.mat.*expected K x 5'),
    (('frame_test.mat', ), {'img_index': np.zeros((1, 1))},
     'test', "frame_test.mat: key 'img_index_test'"),
], ids=['annotation_with_wrong_key', 'annotation_with_wrong_shape',
        'split_file_with_wrong_key'])
def test_malformed_file(fresh_root, saved_mat_raises, parts, arrays, split, match):
    saved_mat_raises(osp.join(fresh_root, *parts), arrays,
                     lambda: PRWDataset(data_root=fresh_root, split=split), match)


def test_missing_query_file(fresh_root):
    os.remove(osp.join(fresh_root, 'query_info.txt'))
    with pytest.raises(FileNotFoundError, match='query_info.txt'):
        PRWDataset(data_root=fresh_root, split='test')


def test_query_in_an_unknown_frame(fresh_root):
    with open(osp.join(fresh_root, 'query_info.txt'), 'ab') as f:
        f.write(b'10 1 1 5 5 c1s1_000001\r\n')
    with pytest.raises(ValueError, match='query 4 is in frame c1s1_000001'):
        PRWDataset(data_root=fresh_root, split='test')


def test_query_outside_its_frame(fresh_root):
    with open(osp.join(fresh_root, 'query_info.txt'), 'ab') as f:
        f.write(b'10 200 1 5 5 c1s1_000101\r\n')
    with pytest.raises(ValueError, match='query 4 has no area'):
        PRWDataset(data_root=fresh_root, split='test')


def test_frame_without_camera_in_its_name(fresh_root):
    for sub, suffix in (('frames', '.jpg'), ('annotations', '.jpg.mat')):
        shutil.copy(osp.join(fresh_root, sub, 'c1s1_000001' + suffix),
                    osp.join(fresh_root, sub, 'frame_000001' + suffix))
    from mmssl.datasets.formats import save_prw_name_list
    save_prw_name_list(osp.join(fresh_root, 'frame_train.mat'),
                       'img_index_train', ['frame_000001'])
    with pytest.raises(ValueError, match='frame_000001'):
        PRWDataset(data_root=fresh_root, split='train')
