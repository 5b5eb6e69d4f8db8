"""Statistics of a PRW-layout root, checked on a hand-written one."""
import numpy as np
import pytest

from mmssl.datasets.formats import (save_prw_annotation, save_prw_name_list,
                                    save_prw_queries)
from mmssl.synthps.statistics import (camera_of, format_statistics,
                                               synthps_statistics)


def _write_root(root):
    (root / 'annotations').mkdir(parents=True)
    frames = {
        'c1s1_000001': [[1, 0, 0, 10, 20], [2, 5, 5, 10, 40], [-2, 1, 1, 5, 10]],
        'c2s1_000001': [[1, 0, 0, 10, 80]],
        'c3s1_000001': [[2, 0, 0, 10, 30], [1, 3, 3, 9, 25]],
        'c1s1_000026': [[5, 0, 0, 10, 50], [-2, 0, 0, 4, 12]],
        'c2s1_000026': [[5, 2, 2, 10, 45], [6, 0, 0, 10, 60]],
        'c3s1_000026': [[6, 1, 1, 10, 35]],
    }
    for name, rows in frames.items():
        save_prw_annotation(str(root / 'annotations' / f'{name}.jpg.mat'),
                            np.array(rows, dtype=float))
    save_prw_name_list(str(root / 'frame_train.mat'), 'img_index_train',
                       ['c1s1_000001', 'c2s1_000001', 'c3s1_000001'])
    save_prw_name_list(str(root / 'frame_test.mat'), 'img_index_test',
                       ['c1s1_000026', 'c2s1_000026', 'c3s1_000026'])
    save_prw_queries(str(root / 'query_info.txt'),
                     [(5, [0, 0, 10, 50], 'c1s1_000026'),
                      (6, [0, 0, 10, 60], 'c2s1_000026'),
                      (6, [1, 1, 10, 35], 'c3s1_000026')])


def test_statistics_of_a_known_root(tmp_path):
    _write_root(tmp_path)
    stats = synthps_statistics(tmp_path)
    assert stats['identities'] == dict(train=2, test=2, shared=0)
    assert stats['frames'] == dict(train=3, test=3)
    assert stats['boxes'] == dict(train=6, test=5)
    assert stats['labelled_boxes'] == 9 and stats['unlabelled_boxes'] == 2
    assert stats['unlabelled_fraction'] == pytest.approx(2 / 11)
    heights = [20, 40, 10, 80, 30, 25, 50, 12, 45, 60, 35]
    assert stats['person_height'] == pytest.approx(
        dict(min=10, median=float(np.median(heights)), max=80,
             max_min_ratio=8.0))
    assert stats['cameras'] == 3
    # id 1: cams {1,2,3}, 3 frames; id 2: {1,3}, 2; id 5: {1,2}, 2; id 6: {2,3}, 2
    assert stats['cameras_per_identity'] == dict(min=2, median=2.0)
    assert stats['frames_per_identity'] == dict(min=2, median=2.0)
    assert stats['queries'] == 3
    table = format_statistics(stats)
    assert 'person_height.max_min_ratio | 8.000' in table
    assert 'identities.train' in table and 'queries' in table


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='frame_train.mat'):
        synthps_statistics(tmp_path)
    _write_root(tmp_path)
    (tmp_path / 'annotations' / 'c3s1_000026.jpg.mat').write_bytes(b'junk')
    with pytest.raises(ValueError, match='c3s1_000026'):
        synthps_statistics(tmp_path)


def test_camera_of():
    assert camera_of('c4s1_000151') == 4
    with pytest.raises(ValueError, match='camera'):
        camera_of('frame_000151')
