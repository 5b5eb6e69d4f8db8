"""The base class: filtering, slicing, serialisation and instance indices."""
import numpy as np
import pytest

from mmssl.datasets import PersonSearchDataset, PRWDataset
from mmssl.datasets.formats import area_inside_image, clip_xywh_boxes
from mmssl.datasets.person_search_dataset import (find_matching_instance,
                                                  person_instance,
                                                  read_image_size,
                                                  validate_search_protocol)


def all_records(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def strip_sample_idx(records):
    return [{k: v for k, v in r.items() if k != 'sample_idx'} for r in records]


def instance_indices(dataset):
    return [inst['instance_index'] for r in all_records(dataset)
            for inst in r['instances']]


def test_serialised_and_plain_records_agree(prw_root):
    serialised = PRWDataset(data_root=prw_root, split='train',
                            serialize_data=True)
    plain = PRWDataset(data_root=prw_root, split='train', serialize_data=False)
    assert strip_sample_idx(all_records(serialised)) == strip_sample_idx(
        all_records(plain))


def test_indices_are_assigned_after_slicing(prw_root):
    dataset = PRWDataset(data_root=prw_root, split='train', indices=[1, 3])
    assert [r['img_id'] for r in all_records(dataset)] == [
        'c2s1_000002.jpg', 'c2s1_000005.jpg'
    ]
    assert instance_indices(dataset) == [0, 1, 2, 3]
    assert dataset.num_instances == 4


def test_filter_cfg(prw_root):
    keep_empty = PRWDataset(data_root=prw_root, split='train',
                            filter_cfg=dict(filter_empty_gt=False))
    records = all_records(keep_empty)
    assert len(records) == 5 and records[3]['instances'] == []
    assert instance_indices(keep_empty) == list(range(8))
    kept = PRWDataset(data_root=prw_root, split='train',
                      filter_cfg=dict(filter_empty_gt=True, min_size=64))
    assert len(kept) == 4
    none = PRWDataset(data_root=prw_root, split='train',
                      filter_cfg=dict(min_size=65))
    assert len(none) == 0 and none.num_instances == 0
    with pytest.raises(ValueError, match=r"unknown filter_cfg keys \['foo'\]"):
        PRWDataset(data_root=prw_root, split='train', filter_cfg=dict(foo=1))


def test_test_split_is_never_filtered_nor_sliced(prw_root):
    dataset = PRWDataset(data_root=prw_root, split='test',
                         filter_cfg=dict(filter_empty_gt=True))
    assert len(dataset) == 9  # the frame without persons stays
    with pytest.raises(ValueError, match='indices is not supported'):
        PRWDataset(data_root=prw_root, split='test', indices=2)


def test_lazy_init_and_instance_table(prw_root):
    dataset = PRWDataset(data_root=prw_root, split='train', lazy_init=True)
    assert dataset.num_instances == 8  # triggers full_init
    table = dataset.instance_table()
    assert table['image_index'].tolist() == [0, 0, 0, 1, 1, 2, 3, 3]
    assert table['person_id'].tolist() == [1, 2, -2, 1, 3, 2, 1, -2]
    assert table['bboxes'].dtype == np.float32
    np.testing.assert_array_equal(table['bboxes'][3], [0, 5, 8, 35])
    test = PRWDataset(data_root=prw_root, split='test')
    assert test.instance_table()['image_index'].shape == (0, )


def test_get_subset_keeps_indices(prw_root):
    dataset = PRWDataset(data_root=prw_root, split='train')
    subset = dataset.get_subset([2])
    assert instance_indices(subset) == [5]
    assert subset.num_instances == 8


def test_mask_dir_option(prw_root):
    dataset = PRWDataset(data_root=prw_root, split='train', mask_dir=None)
    assert all(r['fg_mask_path'] is None for r in all_records(dataset))
    dataset = PRWDataset(data_root=prw_root, split='train',
                         mask_dir='no_such_dir')
    assert all(r['fg_mask_path'] is None for r in all_records(dataset))


def test_split_and_base_class_errors(prw_root):
    with pytest.raises(ValueError, match="split must be one of"):
        PRWDataset(data_root=prw_root, split='val')
    with pytest.raises(NotImplementedError, match='use PRWDataset'):
        PersonSearchDataset(data_root=prw_root, split='train')


def test_clip_xywh_boxes():
    boxes = np.array([[-4, 5, 12, 30], [90, 50, 20, 20], [10, 10, 0, 5],
                      [100, 10, 5, 5], [1.5, 2.5, 3, 4]])
    xyxy, valid = clip_xywh_boxes(boxes, width=96, height=64)
    np.testing.assert_array_equal(xyxy[0], [0, 5, 8, 35])
    np.testing.assert_array_equal(xyxy[1], [90, 50, 96, 64])
    np.testing.assert_array_equal(xyxy[4], [1.5, 2.5, 4.5, 6.5])
    assert valid.tolist() == [True, True, False, False, True]


def test_area_inside_image():
    boxes = np.array([[0, 0, 10, 10], [96, 0, 110, 10], [5, 5, 5, 20], [-10, -5, 2, 3]])
    assert area_inside_image(boxes, 96, 64).tolist() == [True, False, False, True]
    # unknown size: only the box's own area counts
    assert area_inside_image(boxes, -1, -1).tolist() == [True, True, False, True]


def test_matching_instance():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    instances = [person_instance(b, pid, row)
                 for b, pid, row in zip(boxes, [1, 2, 3], [4, 5, 6])]
    assert find_matching_instance(instances, [0, 0, 10, 10], 1) == 0
    # IoU 0.4 with the first box, 1/4 with the second: below 0.5, no match
    assert find_matching_instance(instances, [0, 0, 10, 4], 1) == -1
    assert find_matching_instance(instances, [5, 0, 15, 9], 1) == 1
    # same IoU candidates: the one with the same person id wins
    instances = [person_instance([0, 0, 10, 10], 1, 0),
                 person_instance([0, 0, 10, 10], 2, 1)]
    assert find_matching_instance(instances, [0, 0, 10, 10], 2) == 1
    assert find_matching_instance(instances, [50, 50, 60, 60], 2) == -1
    assert find_matching_instance([], [0, 0, 1, 1], 1) == -1


def test_read_image_size_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='a.jpg: image file not found'):
        read_image_size(str(tmp_path / 'a.jpg'))
    (tmp_path / 'b.jpg').write_bytes(b'not an image')
    with pytest.raises(ValueError, match='b.jpg: not a readable image'):
        read_image_size(str(tmp_path / 'b.jpg'))


def test_protocol_validation():
    protocol = dict(
        gallery_img_ids=['a', 'b'],
        queries=[dict(img_id='a', cam_id=1, person_id=1, bbox=[0, 0, 1, 1])],
        galleries=dict(g=dict(gallery=[np.array([1])], exclude_same_camera=False,
                              positives=[{1: [0, 0, 1, 1]}])),
        default='g')
    validate_search_protocol(protocol, 'x')
    bad = dict(protocol, default='h')
    with pytest.raises(ValueError, match="x: default protocol 'h'"):
        validate_search_protocol(bad, 'x')
    bad = dict(protocol, galleries=dict(g=dict(
        gallery=[np.array([2])], exclude_same_camera=False, positives=None)))
    with pytest.raises(ValueError, match='outside 0..1'):
        validate_search_protocol(bad, 'x')
    bad = dict(protocol, galleries=dict(g=dict(
        gallery=None, exclude_same_camera=False, positives=[{}, {}])))
    with pytest.raises(ValueError, match='2 positives entries for 1 queries'):
        validate_search_protocol(bad, 'x')
