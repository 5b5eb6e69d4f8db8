"""PRW file formats as the fixture writes them, and their errors."""
import os.path as osp

import numpy as np
import pytest
import scipy.io

from mmssl.datasets.formats import (load_prw_annotation, load_prw_name_list,
                                    load_prw_queries, save_prw_annotation,
                                    save_prw_name_list)


def test_fixture_uses_the_official_layout(prw_root):
    raw = open(osp.join(prw_root, 'query_info.txt'), 'rb').read()
    lines = raw.split(b'\r\n')
    assert lines[-1] == b'' and len(lines) == 4  # 3 CRLF-terminated lines
    assert lines[0] == b'10 10 10 12 30 c1s1_000101'
    keys = {
        name: [k for k in scipy.io.loadmat(
            osp.join(prw_root, 'annotations', name + '.jpg.mat'))
               if not k.startswith('__')]
        for name in ('c1s1_000001', 'c2s1_000002', 'c3s1_000003')
    }
    assert keys == {'c1s1_000001': ['box_new'], 'c2s1_000002': ['anno_file'],
                    'c3s1_000003': ['anno_previous']}
    cell = scipy.io.loadmat(osp.join(prw_root,
                                     'frame_train.mat'))['img_index_train']
    assert cell.shape == (5, 1) and cell.dtype == object
    assert str(cell[0, 0][0]) == 'c1s1_000001'
    rows = load_prw_annotation(
        osp.join(prw_root, 'annotations', 'c2s1_000002.jpg.mat'))
    assert rows[0].tolist() == [1, -4, 5, 12, 30]  # negative x kept as stored
    empty = load_prw_annotation(
        osp.join(prw_root, 'annotations', 'c2s1_000105.jpg.mat'))
    assert empty.shape == (0, 5)


def test_queries_read_back(prw_root):
    queries = load_prw_queries(osp.join(prw_root, 'query_info.txt'))
    assert [(q[0], q[1].tolist(), q[2]) for q in queries] == [
        (10, [10, 10, 12, 30], 'c1s1_000101'),
        (11, [50, 8, 14, 34], 'c1s1_000101'),
        (12, [60, 10, 12, 36], 'c3s1_000103'),
    ]


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='x.jpg.mat.*K x 5'):
        load_prw_annotation(str(tmp_path / 'x.jpg.mat'))
    with pytest.raises(FileNotFoundError, match='frame_train.mat'):
        load_prw_name_list(str(tmp_path / 'frame_train.mat'), 'img_index_train')
    with pytest.raises(FileNotFoundError, match='query_info.txt'):
        load_prw_queries(str(tmp_path / 'query_info.txt'))


def test_wrong_key_and_shape(tmp_path, saved_mat_raises):
    path = str(tmp_path / 'a.jpg.mat')
    saved_mat_raises(path, {'boxes': np.zeros((2, 5))},
                     lambda: load_prw_annotation(path),
                     r"a.jpg.mat: none of the keys.*\['boxes'\]")
    saved_mat_raises(path, {'box_new': np.zeros((2, 4))},
                     lambda: load_prw_annotation(path),
                     r'shape \(2, 4\), expected K x 5')
    save_prw_annotation(path, np.ones((1, 5)), key='anno_file')
    assert load_prw_annotation(path).tolist() == [[1, 1, 1, 1, 1]]


def test_name_list_errors(tmp_path, saved_mat_raises):
    path = str(tmp_path / 'frame_test.mat')
    save_prw_name_list(path, 'img_index_test', ['c1s1_000001'])
    with pytest.raises(ValueError, match="frame_test.mat: key 'img_index_train'"
                       ' not found'):
        load_prw_name_list(path, 'img_index_train')
    saved_mat_raises(path, {'img_index_test': np.zeros((2, 1))},
                     lambda: load_prw_name_list(path, 'img_index_test'),
                     'entry 0 .* not a frame name')


def test_bad_query_line_names_file_and_line(tmp_path):
    path = tmp_path / 'query_info.txt'
    path.write_bytes(b'1 2 3 4 5 c1s1_000001\r\n1 2 3 c1s1_000002\r\n')
    with pytest.raises(ValueError, match=r'query_info.txt:2: expected'):
        load_prw_queries(str(path))
    path.write_bytes(b'1 2 x 4 5 c1s1_000001\r\n')
    with pytest.raises(ValueError, match=r'query_info.txt:1: non-numeric'):
        load_prw_queries(str(path))
