"""render_synthps: layout, exact formats, determinism, masks, scales, identities,
unlabelled persons, queries."""
import filecmp
import json
import re

import cv2
import numpy as np
import pytest
import scipy.io

from mmssl.synthps import render_synthps

NAME = re.compile(r'^c(\d)s1_(\d{6})$')


def _names(root, split):
    key = f'img_index_{split}'
    cell = scipy.io.loadmat(str(root / f'frame_{split}.mat'))[key]
    return cell, [str(np.asarray(item).ravel()[0]) for item in cell.ravel()]


def _rows(root, name):
    return scipy.io.loadmat(str(root / 'annotations' / f'{name}.jpg.mat'))


def _all_frames(root):
    frames = []
    for split in ('train', 'test'):
        for name in _names(root, split)[1]:
            frames.append((split, name, _rows(root, name)['box_new']))
    return frames


def test_layout_and_formats(small_root, small_parameters):
    root, _ = small_root
    p = small_parameters
    for split, count in (('train', p['num_train_frames']),
                         ('test', p['num_test_frames'])):
        cell, names = _names(root, split)
        assert cell.dtype == object and cell.shape == (count, 1)
        assert len(set(names)) == count
        for name in names:
            assert NAME.match(name), name
            assert 1 <= int(NAME.match(name).group(1)) <= p['num_cameras']
            image = cv2.imread(str(root / 'frames' / f'{name}.jpg'))
            assert image.shape == (p['height'], p['width'], 3)
            mask = cv2.imread(str(root / 'masks' / f'{name}.png'),
                              cv2.IMREAD_UNCHANGED)
            assert mask.dtype == np.uint8
            assert mask.shape == (p['height'], p['width'])
            mat = _rows(root, name)
            assert [k for k in mat if not k.startswith('__')] == ['box_new']
            rows = mat['box_new']
            assert rows.dtype == np.float64
            assert rows.ndim == 2 and rows.shape[1] == 5 and len(rows) >= 1
    _, train = _names(root, 'train')
    _, test = _names(root, 'test')
    assert not set(train) & set(test)
    assert sorted(p.name for p in (root / 'frames').iterdir()) == sorted(
        f'{n}.jpg' for n in train + test)

    raw = (root / 'query_info.txt').read_bytes()
    assert raw.endswith(b'\r\n')
    lines = raw.split(b'\r\n')[:-1]
    assert lines and all(b'\n' not in line for line in lines)
    for line in lines:
        fields = line.decode().split(' ')
        assert len(fields) == 6
        assert fields[5] in test
    marker = json.loads((root / 'synthps.json').read_text())
    assert marker['parameters']['seed'] == p['seed']


def test_same_seed_gives_identical_files_and_other_seed_differs(
        small_root, small_parameters, tmp_path):
    root, _ = small_root
    again = tmp_path / 'again'
    render_synthps(again, **small_parameters)
    names = _names(root, 'train')[1] + _names(root, 'test')[1]
    for name in names:
        for path in (f'annotations/{name}.jpg.mat', f'frames/{name}.jpg',
                     f'masks/{name}.png'):
            assert filecmp.cmp(root / path, again / path, shallow=False), path
    for path in ('frame_train.mat', 'frame_test.mat', 'query_info.txt'):
        assert filecmp.cmp(root / path, again / path, shallow=False), path

    other = tmp_path / 'other'
    render_synthps(other, **dict(small_parameters, seed=4))
    differ = [
        name for name in names
        if not (other / 'annotations' / f'{name}.jpg.mat').exists()
        or not filecmp.cmp(root / 'annotations' / f'{name}.jpg.mat',
                           other / 'annotations' / f'{name}.jpg.mat',
                           shallow=False)
    ]
    assert len(differ) > len(names) // 2


def test_masks_match_boxes(small_root, small_parameters):
    root, _ = small_root
    height, width = small_parameters['height'], small_parameters['width']
    overlapping = 0
    for _, name, rows in _all_frames(root):
        mask = cv2.imread(str(root / 'masks' / f'{name}.png'),
                          cv2.IMREAD_UNCHANGED)
        assert mask.max() <= len(rows)
        for k, (_, x, y, w, h) in enumerate(rows):
            ys, xs = np.nonzero(mask == k + 1)
            assert ys.size > 0, f'{name}: person on row {k} has an empty mask'
            assert xs.min() >= max(0, x) and xs.max() <= min(width, x + w) - 1
            assert ys.min() >= max(0, y) and ys.max() <= min(height, y + h) - 1
        boxes = rows[:, 1:3], rows[:, 1:3] + rows[:, 3:5]
        for k in range(len(rows)):
            inter = np.minimum(boxes[1][k], boxes[1]) - np.maximum(
                boxes[0][k], boxes[0])
            overlapping += int(((inter > 0).all(axis=1)).sum() - 1)
    assert overlapping >= 2  # persons stand in front of each other


def test_person_heights_span_the_range(small_root, small_parameters):
    root, _ = small_root
    heights = np.concatenate([rows[:, 4] for _, _, rows in _all_frames(root)])
    low = small_parameters['min_person_height']
    high = small_parameters['max_person_height']
    assert heights.min() >= low - 2 and heights.max() <= high + 2
    assert heights.max() / heights.min() >= 3.0


def test_identities_cameras_and_unlabelled(small_root, small_parameters):
    root, _ = small_root
    p = small_parameters
    ids = dict(train=set(), test=set())
    cameras, frames = {}, {}
    labelled = unlabelled = 0
    for split, name, rows in _all_frames(root):
        pids = rows[:, 0].astype(int)
        known = pids[pids >= 0]
        assert len(set(known)) == len(known), f'{name}: a person twice'
        assert set(pids[pids < 0]) <= {-2}
        unlabelled += int((pids == -2).sum())
        labelled += len(known)
        for pid in known:
            ids[split].add(pid)
            cameras.setdefault(pid, set()).add(name[1])
            frames.setdefault(pid, set()).add(name)
    assert ids['train'] == set(range(1, p['num_train_ids'] + 1))
    assert ids['test'] == set(
        range(p['num_train_ids'] + 1,
              p['num_train_ids'] + p['num_test_ids'] + 1))
    assert all(len(c) >= 2 for c in cameras.values())
    assert all(len(f) >= 2 for f in frames.values())
    assert unlabelled > 0
    assert 0.05 < unlabelled / (labelled + unlabelled) < 0.4


def test_queries_are_labelled_test_boxes_seen_elsewhere(small_root):
    root, statistics = small_root
    _, test = _names(root, 'test')
    rows_of = {name: _rows(root, name)['box_new'] for name in test}
    lines = (root / 'query_info.txt').read_text().split()
    queries = [lines[i:i + 6] for i in range(0, len(lines), 6)]
    assert len(queries) == statistics['queries']
    queried = set()
    for pid, x, y, w, h, name in queries:
        pid = int(pid)
        box = np.array([float(x), float(y), float(w), float(h)])
        rows = rows_of[name]
        match = rows[(rows[:, 0] == pid)]
        assert len(match) == 1 and np.allclose(match[0, 1:], box)
        others = [n for n in test if n != name and pid in rows_of[n][:, 0]]
        assert others, f'query {pid} in {name} is seen nowhere else'
        assert any(n[1] != name[1] for n in others), 'no other camera'
        queried.add(pid)
    test_ids = {int(p) for rows in rows_of.values() for p in rows[:, 0] if p > 0}
    assert queried == test_ids


def test_render_returns_statistics_of_what_it_wrote(small_root,
                                                    small_parameters):
    root, statistics = small_root
    p = small_parameters
    assert statistics['frames'] == dict(train=p['num_train_frames'],
                                        test=p['num_test_frames'])
    assert statistics['identities'] == dict(train=p['num_train_ids'],
                                            test=p['num_test_ids'], shared=0)
    assert statistics['cameras'] == p['num_cameras']


def test_rerender_replaces_an_earlier_synthps_root(tmp_path, small_parameters):
    root = tmp_path / 'root'
    render_synthps(root, **dict(small_parameters, num_train_frames=12))
    first = {p.name for p in (root / 'frames').iterdir()}
    statistics = render_synthps(root, **small_parameters)
    second = {p.name for p in (root / 'frames').iterdir()}
    assert len(first) == 12 + small_parameters['num_test_frames']
    assert len(second) == small_parameters['num_train_frames'] + \
        small_parameters['num_test_frames']
    assert statistics['frames']['train'] == small_parameters['num_train_frames']
    assert {p.name for p in (root / 'masks').iterdir()} == {
        n.replace('.jpg', '.png') for n in second}


def test_refuses_a_foreign_nonempty_directory(tmp_path, small_parameters):
    (tmp_path / 'keep.txt').write_text('not synthps')
    with pytest.raises(FileExistsError, match='synthps.json'):
        render_synthps(tmp_path, **small_parameters)
    assert [p.name for p in tmp_path.iterdir()] == ['keep.txt']


@pytest.mark.parametrize('change, error', [
    (dict(num_cameras=1), 'num_cameras'),
    (dict(num_cameras=10), 'num_cameras'),
    (dict(num_train_frames=2), 'num_train_frames'),
    (dict(min_person_height=50, max_person_height=40), 'min_person_height'),
    (dict(max_person_height=125), 'max_person_height'),
    (dict(unlabelled_fraction=0.7), 'unlabelled_fraction'),
    (dict(seed=-1), 'seed'),
])
def test_bad_parameters_are_refused_before_writing(tmp_path, small_parameters,
                                                   change, error):
    root = tmp_path / 'root'
    with pytest.raises(ValueError, match=error):
        render_synthps(root, **dict(small_parameters, **change))
    assert not root.exists()


def test_incomplete_root_has_no_frame_train(tmp_path, small_parameters,
                                            monkeypatch):
    from mmssl.synthps import render as render_module

    def broken(*args, **kwargs):
        raise RuntimeError('stop')

    monkeypatch.setattr(render_module, 'save_prw_queries', broken)
    root = tmp_path / 'root'
    with pytest.raises(RuntimeError, match='stop'):
        render_synthps(root, **small_parameters)
    assert (root / 'frames').is_dir() and any((root / 'frames').iterdir())
    assert not (root / 'frame_train.mat').exists()


def test_non_integer_sizes_are_refused(tmp_path, small_parameters):
    with pytest.raises(TypeError, match='height'):
        render_synthps(tmp_path / 'root', **dict(small_parameters, height=128.0))
