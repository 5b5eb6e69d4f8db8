"""tools/misc/precompute_masks.py on the tiny PRW/CUHK-SYSU roots.

The written PNGs must follow docs/internals.md section 4 and load through
``LoadForegroundMasks(source='file')`` into the same masks the on-the-fly sources
give (``'box'``, ``'grabcut'``) for boxes that do not overlap.
"""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmssl.datasets import CUHKSYSUDataset, PRWDataset
from mmssl.datasets.transforms import LoadForegroundMasks, box_masks
from mmssl.testing import (TINY_PRW_TEST, TINY_PRW_TRAIN, write_tiny_cuhk_root,
                           write_tiny_prw_root)

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'misc' / 'precompute_masks.py'


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('precompute_masks', TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules['precompute_masks'] = module  # worker processes unpickle it
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop('precompute_masks', None)


@pytest.fixture
def prw_root(tmp_path):
    return write_tiny_prw_root(str(tmp_path / 'prw'), with_masks=False)['root']


def all_records(dataset_type, root, **kwargs):
    records = []
    for split in ('train', 'test'):
        extra = dict(filter_cfg=dict(filter_empty_gt=False)) \
            if split == 'train' else {}
        dataset = dataset_type(data_root=root, split=split, **extra, **kwargs)
        records += [dataset.get_data_info(i) for i in range(len(dataset))
                    if not dataset.get_data_info(i)['is_query']]
    return records


def load_masks(record, source):
    results = dict(record)
    if source == 'grabcut':
        results['img'] = cv2.imread(record['img_path'])
    return LoadForegroundMasks(source=source).transform(
        results)['gt_masks'].to_ndarray()


def test_box_masks_load_through_the_file_source(tool, prw_root, capsys):
    assert tool.main([prw_root, '--dataset', 'prw', '--method', 'box']) == 0
    out = capsys.readouterr().out
    assert f'{osp.join(prw_root, "masks")}: 11 masks written (box, 17 ' \
        'persons), 0 existing kept' in out
    names = sorted(os.listdir(osp.join(prw_root, 'masks')))
    assert names == sorted(n + '.png' for n in {**TINY_PRW_TRAIN,
                                                **TINY_PRW_TEST})
    records = all_records(PRWDataset, prw_root)
    assert len(records) == 11
    for record in records:
        png = cv2.imread(record['fg_mask_path'], cv2.IMREAD_UNCHANGED)
        assert png.dtype == np.uint8 and png.shape == (64, 96)
        # values: 0 and row + 1 of the valid boxes only
        rows = sorted(i['ann_row'] for i in record['instances'])
        assert sorted(set(np.unique(png)) - {0}) == [r + 1 for r in rows]
        np.testing.assert_array_equal(load_masks(record, 'file'),
                                      load_masks(record, 'box'))
    by_id = {r['img_id']: r for r in records}
    # a train frame without a valid box and a test frame without persons
    for img_id in ('c1s1_000004.jpg', 'c2s1_000105.jpg'):
        assert not cv2.imread(by_id[img_id]['fg_mask_path'],
                              cv2.IMREAD_UNCHANGED).any()
    # the w = 0 box (row 1) of c3s1_000003 has no value
    png = cv2.imread(by_id['c3s1_000003.jpg']['fg_mask_path'],
                     cv2.IMREAD_UNCHANGED)
    assert set(np.unique(png)) == {0, 1}


def draw_elliptic_person(path, box):
    """Repaint a frame: noise, and one person as the ellipse inside ``box``."""
    image = cv2.imread(path)
    x1, y1, x2, y2 = box
    image[:] = np.random.default_rng(0).integers(60, 120, image.shape,
                                                 dtype=np.uint8)
    cv2.ellipse(image, ((x1 + x2) // 2, (y1 + y2) // 2),
                ((x2 - x1) // 2 - 1, (y2 - y1) // 2 - 1), 0, 0, 360,
                (200, 40, 40), -1)
    cv2.imwrite(path, image, [cv2.IMWRITE_JPEG_QUALITY, 98])


def test_grabcut_masks_equal_the_on_the_fly_source(tool, tmp_path):
    root = write_tiny_prw_root(str(tmp_path / 'prw'), height=128, width=192,
                               with_masks=False)['root']
    # c1s1_000001's first person (box [20, 16, 44, 76]) becomes an ellipse
    draw_elliptic_person(osp.join(root, 'frames', 'c1s1_000001.jpg'),
                         (20, 16, 44, 76))
    summary = tool.precompute_masks(root, 'prw', 'grabcut', workers=2)
    assert (summary['written'], summary['skipped'], summary['persons'],
            summary['empty_persons']) == (11, 0, 17, 0)
    for record in all_records(PRWDataset, root):
        from_file = load_masks(record, 'file')
        np.testing.assert_array_equal(from_file, load_masks(record, 'grabcut'))
        boxes = load_masks(record, 'box')
        for mask, box in zip(from_file, boxes):
            assert mask.any() and not (mask & (1 - box)).any()
        if record['img_id'] == 'c1s1_000001.jpg':
            # GrabCut finds the ellipse: 60-90% of its box, not the box
            ratio = from_file[0].sum() / boxes[0].sum()
            assert 0.6 < ratio < 0.9, ratio


def test_existing_masks_are_skipped_unless_overwrite(tool, prw_root, capsys):
    tool.main([prw_root, '--dataset', 'prw', '--method', 'box'])
    path = osp.join(prw_root, 'masks', 'c1s1_000001.png')
    cv2.imwrite(path, np.zeros((64, 96), np.uint8))
    capsys.readouterr()
    tool.main([prw_root, '--dataset', 'prw', '--method', 'box'])
    assert ': 0 masks written (box, 0 persons), 11 existing kept (--overwrite' \
        in capsys.readouterr().out
    assert not cv2.imread(path, cv2.IMREAD_UNCHANGED).any()
    summary = tool.precompute_masks(prw_root, 'prw', 'box', overwrite=True)
    assert (summary['written'], summary['skipped']) == (11, 0)
    assert cv2.imread(path, cv2.IMREAD_UNCHANGED).max() == 3
    assert not [n for n in os.listdir(osp.dirname(path)) if 'tmp' in n]


def test_out_dir_and_cuhk(tool, tmp_path):
    root = write_tiny_cuhk_root(str(tmp_path / 'cuhk'), with_masks=False)['root']
    out_dir = str(tmp_path / 'elsewhere')
    summary = tool.precompute_masks(root, 'cuhk', 'box', out_dir=out_dir)
    assert summary['images'] == summary['written'] == 10
    assert not osp.exists(osp.join(root, 'masks'))
    records = all_records(CUHKSYSUDataset, root, mask_dir=out_dir)
    assert len(records) == 10
    for record in records:
        assert record['fg_mask_path'].startswith(out_dir)
        np.testing.assert_array_equal(load_masks(record, 'file'),
                                      load_masks(record, 'box'))


def test_overlaps_go_to_the_lower_box(tool):
    bboxes = np.array([[0, 0, 6, 8], [2, 2, 8, 6], [3, 3, 5, 5]], float)
    masks = box_masks(bboxes, 10, 10)
    rows = np.array([4, 0, 7])
    instance_map, empty = tool.paint_instance_map(masks, rows, bboxes)
    assert instance_map[1, 1] == 5        # row 4 alone
    assert instance_map[3, 3] == 5        # rows 0, 4, 7 overlap: row 4 is lowest
    assert instance_map[5, 7] == 1        # row 0 alone
    assert empty == 1                     # row 7 is covered by row 4
    assert tool.paint_instance_map(np.zeros((0, 4, 4)), np.zeros(0),
                                   np.zeros((0, 4)))[1] == 0


def test_bad_tasks_name_the_image(tool, prw_root):
    path = osp.join(prw_root, 'frames', 'c1s1_000001.jpg')
    task = dict(img_path=path, out_path=str(Path(prw_root) / 'x.png'),
                height=64, width=96, bboxes=np.array([[0., 0, 5, 5]]),
                rows=np.array([255]), method='box', grabcut_iterations=1,
                grabcut_margin=0.25)
    with pytest.raises(ValueError, match=f'{path}: annotation rows must be '
                       r'0..254'):
        tool.write_mask(task)
    task.update(rows=np.array([0]), height=65)
    with pytest.raises(ValueError, match=r'image of size \(64, 96\) \(h, w\), '
                       r'the dataset says \(65, 96\)'):
        tool.write_mask(task)
    with pytest.raises(FileNotFoundError, match='not a rendered SynthPS root'):
        tool.precompute_masks(str(Path(prw_root) / 'nothing'), 'synthps', 'box')


def test_command_line(prw_root, tmp_path):
    """The script runs from any folder without installing mmssl."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    result = subprocess.run(
        [sys.executable, str(TOOL), prw_root, '--dataset', 'synthps',
         '--method', 'box', '--out-dir', str(tmp_path / 'out')],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr
    assert '11 masks written (box, 17 persons)' in result.stdout
    assert len(os.listdir(tmp_path / 'out')) == 11
