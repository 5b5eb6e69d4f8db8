"""CUHKSYSUDataset on the tiny CUHK-SYSU root: records, protocols, bad files."""
import os
import os.path as osp

import numpy as np
import pytest

from mmssl.datasets import CUHKSYSUDataset
from mmssl.datasets.formats import (CUHKPersonBox, CUHKTestQuery,
                                    load_cuhk_test_protocol, save_cuhk_pool,
                                    save_cuhk_test_protocol)
from mmssl.testing import write_tiny_cuhk_root

IDS = ['s10.jpg', 's11.jpg', 's12.jpg', 's13.jpg', 's14.jpg', 's15.jpg']


def boxes_of(record):
    return [inst['bbox'] for inst in record['instances']]


def test_train_records(cuhk_root, captured_logs):
    dataset = CUHKSYSUDataset(data_root=cuhk_root, split='train')
    records = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [r['img_id'] for r in records] == ['s1.jpg', 's2.jpg', 's3.jpg']
    assert [r['cam_id'] for r in records] == [-1, -1, -1]
    assert records[0]['img_path'] == osp.join(cuhk_root, 'Image', 'SSM',
                                              's1.jpg')
    assert boxes_of(records[1]) == [[0, 5, 9, 35], [50, 12, 65, 52]]
    assert boxes_of(records[2]) == [[20, 10, 32, 40]]
    instances = [inst for r in records for inst in r['instances']]
    # ids from Train.mat (p1, p2); the other boxes are unknown
    assert [i['person_id'] for i in instances] == [1, 2, -1, 1, -1, 2]
    assert [i['instance_index'] for i in instances] == list(range(6))
    assert [i['ann_row'] for i in instances] == [0, 1, 2, 0, 1, 0]
    assert dataset.num_instances == 6
    assert records[0]['fg_mask_path'] == osp.join(cuhk_root, 'masks', 's1.png')
    assert any('dropped 2 boxes (w or h <= 0)' in m for m in captured_logs)
    assert any('skipped 1 train images' in m for m in captured_logs)


def test_test_records_person_ids(cuhk_root):
    dataset = CUHKSYSUDataset(data_root=cuhk_root, split='test',
                              gallery_sizes=(50, 100), full_gallery=True)
    assert len(dataset) == 6 + 3
    gallery = [dataset.get_data_info(i) for i in range(6)]
    assert [r['img_id'] for r in gallery] == IDS
    assert [[i['person_id'] for i in r['instances']] for r in gallery] == [
        [100, 101], [100, -1], [101, 102], [102, 100], [-1], [101]
    ]
    queries = [dataset.get_data_info(6 + q) for q in range(3)]
    assert [q['img_id'] for q in queries] == ['s10.jpg', 's10.jpg', 's12.jpg']
    assert [boxes_of(q) for q in queries] == [[[10, 10, 22, 40]],
                                              [[50, 8, 64, 42]],
                                              [[60, 10, 72, 46]]]
    assert [q['instances'][0]['ann_row'] for q in queries] == [0, 1, 1]
    assert [q['query_index'] for q in queries] == [0, 1, 2]
    protocol = dataset.metainfo['search_protocol']
    assert [q['person_id'] for q in protocol['queries']] == [100, 101, 102]
    assert sorted(protocol['galleries']) == ['full', 'gallery_100',
                                             'gallery_50']
    assert protocol['default'] == 'gallery_100'


def test_gallery_protocols(cuhk_root, expand_protocol):
    dataset = CUHKSYSUDataset(data_root=cuhk_root, split='test',
                              gallery_sizes=(50, 100), full_gallery=True)
    galleries = dataset.metainfo['search_protocol']['galleries']
    g50 = galleries['gallery_50']
    assert [g.tolist() for g in g50['gallery']] == [[1, 3, 2], [2, 5, 1],
                                                    [3, 0, 1]]
    assert g50['exclude_same_camera'] is False
    assert g50['positives'] == [
        {1: [30, 12, 42, 42], 3: [70, 10, 82, 40]},
        {2: [20, 6, 34, 40], 5: [40, 10, 54, 44]},
        {3: [5, 20, 17, 50]},
    ]
    assert [g.tolist() for g in galleries['gallery_100']['gallery']] == [
        [1, 3, 2, 4], [2, 5, 1, 3], [3, 0, 1, 4]
    ]
    assert galleries['full'] == dict(gallery=None, exclude_same_camera=False,
                                     positives=None)
    full = expand_protocol(dataset, 'full')
    assert full[0] == (set(IDS) - {'s10.jpg'}, {'s11.jpg', 's13.jpg'})
    assert full[1] == (set(IDS) - {'s10.jpg'}, {'s12.jpg', 's15.jpg'})
    assert full[2] == (set(IDS) - {'s12.jpg'}, {'s13.jpg'})
    # the explicit galleries and the person-id positives agree
    explicit = expand_protocol(dataset, 'gallery_100')
    for (gallery, positives), (_, all_positives) in zip(explicit, full):
        assert positives == all_positives & gallery


def test_default_gallery_size_is_100(cuhk_root):
    dataset = CUHKSYSUDataset(data_root=cuhk_root, split='test')
    protocol = dataset.metainfo['search_protocol']
    assert list(protocol['galleries']) == ['gallery_100']
    assert protocol['default'] == 'gallery_100'
    dataset = CUHKSYSUDataset(data_root=cuhk_root, split='test',
                              gallery_sizes=(50, ))
    assert dataset.metainfo['search_protocol']['default'] == 'gallery_50'


def test_protocol_options_are_checked(cuhk_root):
    with pytest.raises(ValueError, match='at least one TestG'):
        CUHKSYSUDataset(data_root=cuhk_root, split='test', gallery_sizes=())
    with pytest.raises(ValueError, match="'full' is not one of"):
        CUHKSYSUDataset(data_root=cuhk_root, split='test',
                        default_protocol='full')


# ------------------------------------------------------------- malformed roots


@pytest.fixture
def fresh_root(tmp_path):
    return write_tiny_cuhk_root(str(tmp_path / 'cuhk'), with_masks=False)['root']


def test_missing_gallery_size_file(fresh_root):
    with pytest.raises(FileNotFoundError, match='TestG500.mat.*TestG500'):
        CUHKSYSUDataset(data_root=fresh_root, split='test',
                        gallery_sizes=(500, ))


def test_missing_images_mat(fresh_root):
    os.remove(osp.join(fresh_root, 'annotation', 'Images.mat'))
    with pytest.raises(FileNotFoundError, match='Images.mat'):
        CUHKSYSUDataset(data_root=fresh_root, split='train')


def test_missing_train_mat(fresh_root):
    os.remove(osp.join(fresh_root, 'annotation', 'test', 'train_test',
                       'Train.mat'))
    with pytest.raises(FileNotFoundError, match='Train.mat'):
        CUHKSYSUDataset(data_root=fresh_root, split='train')


def test_images_mat_with_wrong_key(fresh_root, saved_mat_raises):
    saved_mat_raises(osp.join(fresh_root, 'annotation', 'Images.mat'),
                     {'Images': np.zeros((1, 1))},
                     lambda: CUHKSYSUDataset(data_root=fresh_root, split='train'),
                     "Images.mat: key 'Img' not found")


def test_pool_image_not_in_images_mat(fresh_root):
    save_cuhk_pool(osp.join(fresh_root, 'annotation', 'pool.mat'),
                   IDS + ['s99.jpg'])
    with pytest.raises(ValueError, match='pool.mat: 1 test images are not in '
                       'Images.mat, e.g. s99.jpg'):
        CUHKSYSUDataset(data_root=fresh_root, split='test')


def test_galleries_with_different_queries(fresh_root):
    path = osp.join(fresh_root, 'annotation', 'test', 'train_test',
                    'TestG100.mat')
    queries = load_cuhk_test_protocol(path, 'TestG100')
    queries[1] = queries[1]._replace(person_name='p999')
    save_cuhk_test_protocol(path, 'TestG100', queries)
    with pytest.raises(ValueError, match=r'TestG100.mat: query 1 \(p999'):
        CUHKSYSUDataset(data_root=fresh_root, split='test',
                        gallery_sizes=(50, 100))


def test_gallery_entry_outside_the_pool(fresh_root):
    path = osp.join(fresh_root, 'annotation', 'test', 'train_test',
                    'TestG100.mat')
    queries = load_cuhk_test_protocol(path, 'TestG100')
    queries[0].gallery.append(CUHKPersonBox('s1.jpg', None, False))
    save_cuhk_test_protocol(path, 'TestG100', queries)
    with pytest.raises(ValueError, match='TestG100.mat: query 0 gallery entry '
                       '4 is image s1.jpg'):
        CUHKSYSUDataset(data_root=fresh_root, split='test')


def test_unmatched_test_box_is_logged(fresh_root, captured_logs):
    path = osp.join(fresh_root, 'annotation', 'test', 'train_test',
                    'TestG100.mat')
    queries = load_cuhk_test_protocol(path, 'TestG100')
    first = queries[0]
    moved = CUHKPersonBox('s11.jpg', np.array([31., 12, 12, 30]) + 5, False)
    queries[0] = CUHKTestQuery(first.person_name, first.query,
                               [moved] + first.gallery[1:])
    save_cuhk_test_protocol(path, 'TestG100', queries)
    dataset = CUHKSYSUDataset(data_root=fresh_root, split='test')
    assert dataset.get_data_info(1)['instances'][0]['person_id'] == -1
    assert any('1 TestG query or gallery boxes match no box' in m
               for m in captured_logs)


def test_box_readings_and_no_image_reads(fresh_root):
    from mmssl.datasets.formats import (CUHKImageAnnotation, load_cuhk_images,
                                        save_cuhk_images)
    path = osp.join(fresh_root, 'annotation', 'Images.mat')
    images = load_cuhk_images(path)
    index = [im.name for im in images].index('s14.jpg')
    extra = np.array([[-3.6, 2.7, 12.6, 30.2], [90.5, 50, 20, 30]])
    images[index] = CUHKImageAnnotation(
        's14.jpg', np.vstack([images[index].boxes, extra]), np.zeros(3, bool))
    save_cuhk_images(path, images)
    seqnet = CUHKSYSUDataset(data_root=fresh_root, split='test')
    assert seqnet.box_reading == 'seqnet'
    # x, y, w, h truncated towards 0, then x2 = x + w, y2 = y + h; nothing clipped
    assert boxes_of(seqnet.get_data_info(4)) == [[40, 10, 52, 40], [-3, 2, 9, 32],
                                                 [90, 50, 110, 80]]
    clipped = CUHKSYSUDataset(data_root=fresh_root, split='test', box_reading='clipped')
    np.testing.assert_allclose(boxes_of(clipped.get_data_info(4)),
                               [[40, 10, 52, 40], [0, 2.7, 9, 32.9], [90.5, 50, 96, 64]])
    # no image is needed to read the test split so
    os.rename(osp.join(fresh_root, 'Image'), osp.join(fresh_root, 'Image.moved'))
    without = CUHKSYSUDataset(data_root=fresh_root, split='test', read_image_sizes=False)
    from mmssl.datasets.json_dataset import protocol_to_json
    assert protocol_to_json(without.metainfo['search_protocol']) == \
        protocol_to_json(seqnet.metainfo['search_protocol'])
    for index in range(len(without)):
        record = without.get_data_info(index)
        assert (record['height'], record['width']) == (-1, -1)
        assert record['instances'] == seqnet.get_data_info(index)['instances']
    with pytest.raises(FileNotFoundError, match='image file not found'):
        CUHKSYSUDataset(data_root=fresh_root, split='test')
    with pytest.raises(ValueError, match='needs its size'):
        CUHKSYSUDataset(data_root=fresh_root, split='train', read_image_sizes=False)
