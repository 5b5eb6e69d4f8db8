"""Case 2: an annotation file of the wrong shape, key or nesting.

Each case damages one file of a tiny root and builds the dataset end to end; the
error must name the file and, where there is one, the record (row, entry, line).
"""
import os
import os.path as osp
import re

import numpy as np
import pytest
import scipy.io

from mmssl.datasets import CUHKSYSUDataset, PRWDataset

# ------------------------------------------------------------------------ PRW


def prw_file(root, *parts):
    return osp.join(root, *parts)


def save(path, **arrays):
    scipy.io.savemat(path, arrays)


def ann(root, name):
    return prw_file(root, 'annotations', name + '.jpg.mat')


PRW_CASES = {
    # case id: (split, damage(root) -> damaged file, error, message after path)
    'annotation_wrong_key': (
        'train', lambda r: (save(ann(r, 'c1s1_000001'),
                                 boxes=np.ones((2, 5))), ann(r, 'c1s1_000001')),
        ValueError, r": none of the keys \('box_new', 'anno_file', "
        r"'anno_previous'\) found \(keys present: \['boxes'\]\)"),
    'annotation_k_by_4': (
        'train', lambda r: (save(ann(r, 'c2s1_000002'),
                                 anno_file=np.ones((2, 4))),
                            ann(r, 'c2s1_000002')),
        ValueError, r": key 'anno_file' holds an array of shape \(2, 4\), "
        r'expected K x 5'),
    'annotation_transposed': (
        'test', lambda r: (save(ann(r, 'c3s1_000103'),
                                box_new=np.ones((5, 3))),
                           ann(r, 'c3s1_000103')),
        ValueError, r": key 'box_new' holds an array of shape \(5, 3\)"),
    'annotation_nan': (
        'train', lambda r: (save(ann(r, 'c1s1_000001'),
                                 box_new=np.array([[1., 10, 8, 12, 30],
                                                   [2, np.nan, 10, 14, 32]])),
                            ann(r, 'c1s1_000001')),
        ValueError, r": row 1 of 'box_new' holds a non-finite value"),
    'annotation_not_a_mat': (
        'test', lambda r: (open(ann(r, 'c1s1_000104'), 'wb').write(b'\0' * 64),
                           ann(r, 'c1s1_000104')),
        ValueError, ': not a readable .mat file'),
    'annotation_missing': (
        'train', lambda r: (os.remove(ann(r, 'c2s1_000005')),
                            ann(r, 'c2s1_000005')),
        FileNotFoundError, ': file not found; expected a K x 5 matrix'),
    'frame_train_wrong_key': (
        'train', lambda r: (save(prw_file(r, 'frame_train.mat'),
                                 img_index=np.array([['c1s1_000001']],
                                                    dtype=object)),
                            prw_file(r, 'frame_train.mat')),
        ValueError, r": key 'img_index_train' not found \(keys present: "
        r"\['img_index'\]\)"),
    'frame_test_numbers': (
        'test', lambda r: (save(prw_file(r, 'frame_test.mat'),
                                img_index_test=np.arange(3.)[:, None]),
                           prw_file(r, 'frame_test.mat')),
        ValueError, r": entry 0 of 'img_index_test' is not a frame name"),
    'query_line_with_five_fields': (
        'test', lambda r: (open(prw_file(r, 'query_info.txt'), 'ab').write(
            b'10 1 2 3 c1s1_000101\r\n'), prw_file(r, 'query_info.txt')),
        ValueError, r':4: expected "pid x y w h name", got '
        r"'10 1 2 3 c1s1_000101'"),
    'query_line_not_numeric': (
        'test', lambda r: (open(prw_file(r, 'query_info.txt'), 'ab').write(
            b'10 1 two 3 4 c1s1_000101\r\n'), prw_file(r, 'query_info.txt')),
        ValueError, ':4: non-numeric field'),
}


@pytest.mark.parametrize('case', sorted(PRW_CASES))
def test_prw_file_errors_name_the_file(prw_root, case):
    split, damage_file, error, message = PRW_CASES[case]
    _, path = damage_file(prw_root)
    with pytest.raises(error) as info:
        PRWDataset(data_root=prw_root, split=split)
    assert re.match(re.escape(path) + message, str(info.value)), \
        str(info.value)


# ----------------------------------------------------------------- CUHK-SYSU


def cuhk_file(root, name):
    if name.startswith(('TestG', 'Train')):
        return osp.join(root, 'annotation', 'test', 'train_test', name)
    return osp.join(root, 'annotation', name)


def load_raw(path):
    mat = scipy.io.loadmat(path)
    return {k: v for k, v in mat.items() if not k.startswith('__')}


def without_field(struct, field):
    """A copy of a struct array without one field."""
    names = [n for n in struct.dtype.names if n != field]
    copy = np.empty(struct.shape, dtype=[(n, object) for n in names])
    for n in names:
        copy[n] = struct[n]
    return copy


def damage_key(root, name, key, change):
    """Rewrite ``key`` of the CUHK-SYSU file ``name`` as ``change`` returns it;
    return the file's path."""
    path = cuhk_file(root, name)
    scipy.io.savemat(path, {key: change(load_raw(path)[key])})
    return path


def replace_mat(root, name, **arrays):
    """Replace the CUHK-SYSU file ``name`` by one holding ``arrays``; return its
    path."""
    path = cuhk_file(root, name)
    save(path, **arrays)
    return path


def damage_images(root, change):
    return damage_key(root, 'Images.mat', 'Img', change)


def set_idlocate(image, box, value):
    def change(img):
        img[0, image]['box'][0, box]['idlocate'] = value
        return img
    return change


def drop_box_field(field):
    def change(img):
        img[0, 0]['box'] = without_field(img[0, 0]['box'], field)
        return img
    return change


def damage_protocol(root, change, name='TestG100'):
    return damage_key(root, name + '.mat', name, change)


def drop_query_field(records):
    records[0, 0]['Query'] = without_field(records[0, 0]['Query'], 'idname')
    return records


def short_gallery_box(records):
    records[0, 1]['Gallery'][0, 0]['idlocate'] = np.array([[1., 2]])
    return records


def damage_train(root, change):
    return damage_key(root, 'Train.mat', 'Train', change)


def train_as_struct(train):
    return train[0, 0]  # the 1 x 1 struct of the first identity, no cell


def drop_scene_imname(train):
    identity = train[1, 0]
    identity[0, 0]['scene'] = without_field(identity[0, 0]['scene'], 'imname')
    return train


CUHK_CASES = {
    'images_wrong_key': (
        'train', lambda r: replace_mat(r, 'Images.mat', Images=np.zeros((1, 2))),
        r": key 'Img' not found \(keys present: \['Images'\]\)"),
    'images_not_a_struct': (
        'test', lambda r: damage_images(r, lambda img: np.zeros((1, 3))),
        r': Img: expected a 1 x M struct array Img\(imname, nAppear, box\)'),
    'images_record_without_box': (
        'train', lambda r: damage_images(
            r, lambda img: without_field(img, 'box')),
        r": Img: expected .* got fields \['imname', 'nAppear'\]"),
    'box_without_ishard': (
        'train', lambda r: damage_images(r, drop_box_field('ishard')),
        r': Img record 0 \(s1.jpg\) box: expected a 1 x K struct array '
        r'box\(idlocate, ishard\)'),
    'idlocate_three_numbers': (
        'train', lambda r: damage_images(
            r, set_idlocate(1, 0, np.array([[1., 2, 3]]))),
        r': Img record 1 \(s2.jpg\) box 0: expected idlocate to hold 4 '
        r'numbers'),
    'idlocate_text': (
        'test', lambda r: damage_images(r, set_idlocate(4, 1, 'x y w h')),
        r': Img record 4 \(s10.jpg\) box 1: idlocate is not numeric'),
    'idlocate_inf': (
        'train', lambda r: damage_images(
            r, set_idlocate(1, 1, np.array([[50., 12, np.inf, 40]]))),
        r': Img record 1 \(s2.jpg\) box 1: idlocate holds a non-finite '
        r'value \[50.0, 12.0, inf, 40.0\]'),
    'pool_numbers': (
        'test', lambda r: replace_mat(r, 'pool.mat', pool=np.arange(6.)[:, None]),
        r': pool is a float64 array of shape \(6, 1\); expected a P x 1 cell'),
    'testg_wrong_key': (
        'test', lambda r: replace_mat(r, 'TestG100.mat', TestG50=np.zeros((1, 1))),
        r": key 'TestG100' not found \(keys present: \['TestG50'\]\)"),
    'testg_query_without_idname': (
        'test', lambda r: damage_protocol(r, drop_query_field),
        r': TestG100 record 0 Query: expected a 1 x 1 struct Query'),
    'testg_gallery_box_two_numbers': (
        'test', lambda r: damage_protocol(r, short_gallery_box),
        r': TestG100 record 1 Gallery 0: expected idlocate to hold 4 numbers'),
    'train_not_a_cell': (
        'train', lambda r: damage_train(r, train_as_struct),
        r': Train is a .* array of shape \(1, 1\); expected a T x 1 cell'),
    'train_scene_without_imname': (
        'train', lambda r: damage_train(r, drop_scene_imname),
        r': Train record 1 scene: expected a 1 x S struct array scene'),
}


@pytest.mark.parametrize('case', sorted(CUHK_CASES))
def test_cuhk_file_errors_name_the_file_and_record(cuhk_root, case):
    split, damage_file, message = CUHK_CASES[case]
    path = damage_file(cuhk_root)
    with pytest.raises(ValueError) as info:
        CUHKSYSUDataset(data_root=cuhk_root, split=split)
    assert re.match(re.escape(path) + message, str(info.value)), \
        str(info.value)
