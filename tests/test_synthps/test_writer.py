"""Writing: reproducible MAT headers, safe roots, stale files."""
import time

import numpy as np
import pytest
import scipy.io

from mmssl.datasets.formats import load_prw_annotation, load_prw_name_list
from mmssl.synthps.writer import (COMPLETION_FILE, MARKER_FILE,
                                           prepare_root, remove_stale_frames,
                                           stamp_mat_header, write_frame,
                                           write_name_list)


def test_stamped_mat_files_do_not_depend_on_the_clock(tmp_path, monkeypatch):
    rows = np.array([[3, 1.5, 2, 10, 30], [-2, -4, 0, 8, 20]])
    image = np.zeros((40, 30, 3), np.uint8)
    instance_map = np.zeros((40, 30), np.uint8)
    outputs = []
    for clock in ('Mon Jan  1 00:00:00 2024', 'Tue Feb  2 11:11:11 2025'):
        monkeypatch.setattr(time, 'asctime', lambda *a, c=clock: c)
        root = tmp_path / clock.replace(' ', '_').replace(':', '')
        for sub in ('frames', 'masks', 'annotations'):
            (root / sub).mkdir(parents=True)
        write_frame(root, 'c1s1_000001', image, instance_map, rows, 90)
        write_name_list(root / 'frame_train.mat', 'img_index_train',
                        ['c1s1_000001'])
        outputs.append(root)
    for path in ('annotations/c1s1_000001.jpg.mat', 'frame_train.mat'):
        assert (outputs[0] / path).read_bytes() == (outputs[1] /
                                                   path).read_bytes()
    loaded = load_prw_annotation(
        str(outputs[0] / 'annotations/c1s1_000001.jpg.mat'))
    assert np.array_equal(loaded, rows)
    assert load_prw_name_list(str(outputs[0] / 'frame_train.mat'),
                              'img_index_train') == ['c1s1_000001']
    header = (outputs[0] / 'frame_train.mat').read_bytes()[:116]
    assert b'Created on' not in header and b'SynthPS' in header


def test_stamp_refuses_other_files(tmp_path):
    path = tmp_path / 'x.mat'
    path.write_bytes(b'not a mat file' * 20)
    with pytest.raises(ValueError, match='x.mat'):
        stamp_mat_header(str(path))


def test_prepare_root_marks_incomplete_and_refuses_foreign(tmp_path):
    root = tmp_path / 'root'
    prepare_root(root, dict(seed=1))
    assert (root / MARKER_FILE).is_file()
    (root / COMPLETION_FILE).write_bytes(b'old')
    prepare_root(root, dict(seed=2))  # a SynthPS root may be re-rendered
    assert not (root / COMPLETION_FILE).exists()
    assert '"seed": 2' in (root / MARKER_FILE).read_text()

    foreign = tmp_path / 'prw'
    foreign.mkdir()
    (foreign / 'frame_train.mat').write_bytes(b'precious')
    with pytest.raises(FileExistsError, match='prw'):
        prepare_root(foreign, {})
    assert (foreign / 'frame_train.mat').read_bytes() == b'precious'
    a_file = tmp_path / 'file'
    a_file.write_text('x')
    with pytest.raises(FileExistsError, match='not a directory'):
        prepare_root(a_file, {})


def test_remove_stale_frames(tmp_path):
    prepare_root(tmp_path, {})
    for name in ('c1s1_000001', 'c1s1_000026'):
        (tmp_path / 'frames' / f'{name}.jpg').write_bytes(b'')
        (tmp_path / 'masks' / f'{name}.png').write_bytes(b'')
        scipy.io.savemat(str(tmp_path / 'annotations' / f'{name}.jpg.mat'),
                         {'box_new': np.zeros((0, 5))})
    assert remove_stale_frames(tmp_path, ['c1s1_000001']) == 3
    assert [p.name for p in (tmp_path / 'frames').iterdir()] == [
        'c1s1_000001.jpg'
    ]
