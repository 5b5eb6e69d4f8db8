"""LoadPersonSearchAnnotations: boxes plus person ids, instance indices, masks."""
import numpy as np
import pytest

from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmssl.datasets import PRWDataset
from mmssl.datasets.transforms import LoadPersonSearchAnnotations


def test_adds_the_person_search_arrays(prw_root):
    record = PRWDataset(data_root=prw_root, split='train').get_data_info(3)
    results = LoadPersonSearchAnnotations().transform(dict(record))
    assert isinstance(results['gt_bboxes'], HorizontalBoxes)
    np.testing.assert_array_equal(results['gt_bboxes'].numpy(),
                                  [[30, 15, 43, 48], [80, 30, 96, 64]])
    assert results['gt_bboxes_labels'].tolist() == [0, 0]
    assert results['gt_ignore_flags'].tolist() == [False, False]
    assert results['gt_person_ids'].dtype == np.int64
    assert results['gt_person_ids'].tolist() == [1, -2]
    assert results['gt_instance_indices'].dtype == np.int64
    assert results['gt_instance_indices'].tolist() == [6, 7]
    assert 'gt_masks' not in results


def test_with_fg_mask(prw_root):
    record = PRWDataset(data_root=prw_root, split='train').get_data_info(0)
    results = LoadPersonSearchAnnotations(with_fg_mask=True).transform(
        dict(record))
    assert isinstance(results['gt_masks'], BitmapMasks)
    assert len(results['gt_masks']) == 3
    results = LoadPersonSearchAnnotations(
        with_fg_mask=True, mask_source='box').transform(dict(record))
    assert results['gt_masks'].masks[0].sum() == 12 * 30


def test_missing_mask_error_passes_through(prw_root):
    record = PRWDataset(data_root=prw_root, split='train',
                        mask_dir=None).get_data_info(0)
    loader = LoadPersonSearchAnnotations(with_fg_mask=True)
    with pytest.raises(FileNotFoundError, match='c1s1_000001.jpg'):
        loader.transform(dict(record))
    loader = LoadPersonSearchAnnotations(with_fg_mask=True,
                                         mask_fallback='box')
    assert len(loader.transform(dict(record))['gt_masks']) == 3


def test_query_and_empty_records(prw_root):
    dataset = PRWDataset(data_root=prw_root, split='test')
    empty = LoadPersonSearchAnnotations().transform(dataset.get_data_info(4))
    assert empty['gt_bboxes'].shape == (0, 4)
    assert empty['gt_person_ids'].shape == (0, )
    query = LoadPersonSearchAnnotations().transform(dataset.get_data_info(8))
    assert query['gt_person_ids'].tolist() == [12]
    assert query['gt_instance_indices'].tolist() == [-1]


def test_polygon_masks_are_refused():
    with pytest.raises(ValueError, match='use with_fg_mask=True'):
        LoadPersonSearchAnnotations(with_mask=True)
