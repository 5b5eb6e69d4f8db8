"""CUHK-SYSU .mat readers/writers: official nesting, round trip, clear errors."""
import os.path as osp

import numpy as np
import pytest
import scipy.io

from mmssl.datasets.formats import (CUHKImageAnnotation, CUHKPersonBox,
                                    CUHKTestQuery, CUHKTrainIdentity,
                                    load_cuhk_images, load_cuhk_pool,
                                    load_cuhk_test_protocol,
                                    load_cuhk_train_identities,
                                    parse_cuhk_person_id, save_cuhk_images,
                                    save_cuhk_pool, save_cuhk_test_protocol,
                                    save_cuhk_train_identities)


def annotation(root, *parts):
    return osp.join(root, 'annotation', *parts)


def test_fixture_has_the_official_nesting(cuhk_root):
    """The access patterns of the public readers (SeqNet/NAE style) work."""
    img = scipy.io.loadmat(annotation(cuhk_root, 'Images.mat'))['Img']
    assert img.shape == (1, 10)
    assert set(img.dtype.names) == {'imname', 'nAppear', 'box'}
    for name, n_appear, boxes in img.squeeze():
        assert name.shape == (1, ) and str(name[0]).endswith('.jpg')
        assert n_appear.shape == (1, 1)
        assert boxes.shape[0] == 1 and boxes.dtype.names == ('idlocate',
                                                              'ishard')
        stacked = np.asarray([b[0] for b in boxes[0]])
        assert stacked.reshape(stacked.shape[0], 4).shape[1] == 4
    pool = scipy.io.loadmat(annotation(cuhk_root, 'pool.mat'))['pool']
    assert pool.shape == (6, 1) and pool.dtype == object
    assert [str(a[0]) for a in pool.squeeze()][0] == 's10.jpg'

    test = scipy.io.loadmat(
        annotation(cuhk_root, 'test', 'train_test', 'TestG50.mat'))['TestG50']
    assert test.shape == (1, 3)
    item = test.squeeze()[0]
    assert str(item['Query'][0, 0][0][0]) == 's10.jpg'
    assert item['Query'][0, 0][1].squeeze().tolist() == [10, 10, 12, 30]
    assert str(item['Query'][0, 0][3][0]) == 'p100'
    gallery = item['Gallery'].squeeze()
    sizes = [box.size for _, box, _ in gallery]
    assert sizes == [4, 4, 0]  # positives first, then empty idlocate
    assert gallery[2][1].shape == (0, 0)

    train = scipy.io.loadmat(
        annotation(cuhk_root, 'test', 'train_test', 'Train.mat'))['Train']
    assert train.shape == (2, 1) and train.dtype == object
    scenes = train.squeeze()[0][0, 0][2].squeeze()
    assert [str(n[0]) for n, _, _ in scenes] == ['s1.jpg', 's2.jpg']
    assert str(train.squeeze()[0][0, 0][0][0]) == 'p1'


def test_round_trip(tmp_path):
    images = [
        CUHKImageAnnotation('a.jpg', np.array([[1., 2, 3, 4], [5, 6, 7, 8]]),
                            np.array([False, True])),
        CUHKImageAnnotation('b.jpg', np.array([[9., 8, 7, 6]]),
                            np.array([False])),
    ]
    save_cuhk_images(str(tmp_path / 'Images.mat'), images)
    loaded = load_cuhk_images(str(tmp_path / 'Images.mat'))
    assert [im.name for im in loaded] == ['a.jpg', 'b.jpg']
    np.testing.assert_array_equal(loaded[0].boxes, images[0].boxes)
    assert loaded[0].hard.tolist() == [False, True]

    save_cuhk_pool(str(tmp_path / 'pool.mat'), ['b.jpg'])
    assert load_cuhk_pool(str(tmp_path / 'pool.mat')) == ['b.jpg']

    queries = [
        CUHKTestQuery('p7', CUHKPersonBox('a.jpg', np.array([1., 2, 3, 4]),
                                          True),
                      [CUHKPersonBox('b.jpg', np.array([9., 8, 7, 6]), False),
                       CUHKPersonBox('c.jpg', None, False)])
    ]
    save_cuhk_test_protocol(str(tmp_path / 'TestG50.mat'), 'TestG50', queries)
    loaded = load_cuhk_test_protocol(str(tmp_path / 'TestG50.mat'), 'TestG50')
    assert loaded[0].person_name == 'p7'
    assert loaded[0].query.hard is True
    assert loaded[0].query.box.tolist() == [1, 2, 3, 4]
    assert [g.image_name for g in loaded[0].gallery] == ['b.jpg', 'c.jpg']
    assert loaded[0].gallery[1].box is None

    identities = [CUHKTrainIdentity(
        'p3', [CUHKPersonBox('a.jpg', np.array([5., 6, 7, 8]), False)])]
    save_cuhk_train_identities(str(tmp_path / 'Train.mat'), identities)
    loaded = load_cuhk_train_identities(str(tmp_path / 'Train.mat'))
    assert loaded[0].person_name == 'p3'
    assert loaded[0].appearances[0].box.tolist() == [5, 6, 7, 8]


def test_person_id_parsing():
    assert parse_cuhk_person_id('p1234') == 1234
    assert parse_cuhk_person_id(' p7 ') == 7
    assert parse_cuhk_person_id('12') == 12
    assert parse_cuhk_person_id('person') is None


def test_missing_file_names_it(tmp_path):
    path = str(tmp_path / 'Images.mat')
    with pytest.raises(FileNotFoundError, match='Images.mat.*Img'):
        load_cuhk_images(path)


@pytest.mark.parametrize('name,arrays,read,match', [
    ('Images.mat', {'Images': np.zeros((1, 4))}, load_cuhk_images,
     r"Images.mat: key 'Img' not found.*\['Images'\]"),
    ('Images.mat', {'Img': np.zeros((3, 4))}, load_cuhk_images,
     'Images.mat: Img: expected .*struct'),
    ('pool.mat', {'pool': np.zeros((3, 1))}, load_cuhk_pool,
     'pool.mat: pool is a float64 array'),
    ('Train.mat', {'Train': np.zeros((3, 1))}, load_cuhk_train_identities,
     'Train.mat: Train is a float64'),
], ids=['wrong_key', 'wrong_nesting', 'pool_not_a_cell', 'train_not_a_cell'])
def test_malformed_file_names_file_and_expectation(tmp_path, saved_mat_raises,
                                                   name, arrays, read, match):
    path = str(tmp_path / name)
    saved_mat_raises(path, arrays, lambda: read(path), match)


def test_bad_idlocate_names_the_record(tmp_path):
    path = str(tmp_path / 'Images.mat')
    save_cuhk_images(path, [
        CUHKImageAnnotation('a.jpg', np.array([[1., 2, 3, 4]]), None)
    ])
    mat = scipy.io.loadmat(path)
    mat['Img'][0, 0]['box'][0, 0]['idlocate'] = np.array([[1., 2, 3]])
    scipy.io.savemat(path, {'Img': mat['Img']})
    with pytest.raises(ValueError, match=r'Img record 0 \(a.jpg\) box 0.*4 '
                       r'numbers'):
        load_cuhk_images(path)


def test_query_with_several_records_is_rejected(tmp_path):
    path = str(tmp_path / 'TestG50.mat')
    query = np.empty((1, 2), dtype=[('imname', object), ('idlocate', object),
                                    ('ishard', object), ('idname', object)])
    for j in range(2):
        query[0, j] = ('a.jpg', np.array([[1., 2, 3, 4]]), np.array([[0.]]),
                       'p1')
    gallery = np.empty((1, 0), dtype=[('imname', object), ('idlocate', object),
                                      ('ishard', object)])
    records = np.empty((1, 1), dtype=[('Query', object), ('Gallery', object)])
    records[0, 0] = (query, gallery)
    scipy.io.savemat(path, {'TestG50': records})
    with pytest.raises(ValueError, match='TestG50 record 0: Query holds 2'):
        load_cuhk_test_protocol(path, 'TestG50')
