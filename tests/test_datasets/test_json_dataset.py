"""PersonSearchJSONDataset and the COCO converter: round trips and bad files."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest

from mmssl.datasets import (CUHKSYSUDataset, PersonSearchJSONDataset,
                            PRWDataset, records_to_coco)

CONVERTER = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'dataset_converters', 'person_search_to_coco.py')


@pytest.fixture(scope='module')
def converter():
    spec = importlib.util.spec_from_file_location('person_search_to_coco',
                                                  CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def records(dataset):
    return [{k: v for k, v in dataset.get_data_info(i).items()
             if k != 'sample_idx'} for i in range(len(dataset))]


def assert_same_protocol(a, b):
    assert a['gallery_img_ids'] == b['gallery_img_ids']
    assert a['queries'] == b['queries']
    assert a['default'] == b['default']
    assert sorted(a['galleries']) == sorted(b['galleries'])
    for name, spec in a['galleries'].items():
        other = b['galleries'][name]
        assert spec['exclude_same_camera'] == other['exclude_same_camera']
        assert spec['positives'] == other['positives']
        if spec['gallery'] is None:
            assert other['gallery'] is None
        else:
            assert [g.tolist() for g in spec['gallery']] == [
                g.tolist() for g in other['gallery']
            ]
            assert all(g.dtype == np.int64 for g in other['gallery'])


@pytest.mark.parametrize('split', ['train', 'test'])
def test_prw_round_trip(prw_root, tmp_path, converter, split, capsys):
    out = str(tmp_path / f'prw_{split}.json')
    assert converter.main(['prw', prw_root, out, '--split', split]) == 0
    assert 'images' in capsys.readouterr().out
    native = PRWDataset(data_root=prw_root, split=split)
    loaded = PersonSearchJSONDataset(data_root=prw_root, ann_file=out,
                                     split=split)
    assert records(loaded) == records(native)
    assert loaded.num_instances == native.num_instances
    if split == 'test':
        assert_same_protocol(native.metainfo['search_protocol'],
                             loaded.metainfo['search_protocol'])
    coco = json.load(open(out))
    assert coco['img_prefix'] == 'frames'
    assert coco['categories'] == [dict(id=1, name='person')]
    first = coco['annotations'][0]
    assert (first['bbox'], first['person_id'], first['ann_row'],
            first['category_id']) == ([10, 8, 12, 30] if split == 'train' else
                                      [10, 10, 12, 30], 1 if split == 'train'
                                      else 10, 0, 1)


@pytest.mark.parametrize('split', ['train', 'test'])
def test_cuhk_round_trip(cuhk_root, tmp_path, converter, split):
    out = str(tmp_path / f'cuhk_{split}.json')
    converter.main(['cuhk', cuhk_root, out, '--split', split,
                    '--gallery-sizes', '50', '100', '--full-gallery',
                    '--indent', '1'])
    native = CUHKSYSUDataset(data_root=cuhk_root, split=split,
                             gallery_sizes=(50, 100), full_gallery=True)
    loaded = PersonSearchJSONDataset(data_root=cuhk_root, ann_file=out,
                                     split=split)
    assert records(loaded) == records(native)
    if split == 'test':
        protocol = loaded.metainfo['search_protocol']
        assert_same_protocol(native.metainfo['search_protocol'], protocol)
        assert protocol['galleries']['gallery_50']['positives'][2] == {
            3: [5.0, 20.0, 17.0, 50.0]
        }


def test_explicit_image_prefix_and_mask_dir(prw_root, tmp_path, converter):
    out = str(tmp_path / 'prw.json')
    converter.main(['prw', prw_root, out])
    dataset = PersonSearchJSONDataset(
        data_root=prw_root, ann_file=out, data_prefix=dict(img='elsewhere/'),
        mask_dir=None)
    record = dataset.get_data_info(0)
    assert record['img_path'] == osp.join(prw_root, 'elsewhere',
                                          'c1s1_000001.jpg')
    assert record['fg_mask_path'] is None


def write_json(path, **content):
    with open(path, 'w') as f:
        json.dump(content, f)
    return str(path)


IMAGE = dict(id=7, file_name='a.jpg', width=50, height=40)


def test_minimal_external_coco_file(tmp_path):
    path = write_json(
        tmp_path / 'x.json', images=[IMAGE],
        categories=[dict(id=0, name='person'), dict(id=3, name='car')],
        annotations=[
            dict(image_id=7, category_id=0, bbox=[1, 2, 3, 4], ann_row=1),
            dict(image_id=7, category_id=3, bbox=[5, 5, 5, 5]),
            dict(image_id=7, category_id=0, bbox=[-5, 2, 10, 4], person_id=4,
                 ann_row=0),
            dict(image_id=7, category_id=0, bbox=[60, 2, 10, 4], ann_row=2),
        ])
    dataset = PersonSearchJSONDataset(data_root=str(tmp_path), ann_file='x.json')
    record = dataset.get_data_info(0)
    assert record['img_path'] == osp.join(str(tmp_path), 'a.jpg')
    assert record['cam_id'] == -1
    # ordered by ann_row, clipped, the box outside the image dropped, the car
    # skipped, unknown person ids -1
    assert [(i['bbox'], i['person_id'], i['ann_row'])
            for i in record['instances']] == [([0, 2, 5, 6], 4, 0),
                                              ([1, 2, 4, 6], -1, 1)]
    assert dataset.num_instances == 2


def test_bad_json_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='none.json'):
        PersonSearchJSONDataset(ann_file=str(tmp_path / 'none.json'))
    path = write_json(tmp_path / 'a.json', images=[IMAGE])
    with pytest.raises(ValueError, match="a.json: not a COCO-style file "
                       "\\(no 'annotations' list\\)"):
        PersonSearchJSONDataset(ann_file=path)
    path = write_json(tmp_path / 'b.json', images=[IMAGE], annotations=[
        dict(image_id=8, bbox=[1, 2, 3, 4])])
    with pytest.raises(ValueError, match='b.json: annotations refer to unknown '
                       'image ids, e.g. 8'):
        PersonSearchJSONDataset(ann_file=path)
    path = write_json(tmp_path / 'c.json', images=[IMAGE], annotations=[
        dict(image_id=7, bbox=[1, 2, 3])])
    with pytest.raises(ValueError, match='c.json: annotation 0 needs'):
        PersonSearchJSONDataset(ann_file=path)
    path = write_json(tmp_path / 'd.json', split='train', images=[IMAGE],
                      annotations=[])
    with pytest.raises(ValueError, match="d.json: holds the 'train' split"):
        PersonSearchJSONDataset(ann_file=path, split='test')
    path = write_json(tmp_path / 'e.json', images=[IMAGE], annotations=[])
    with pytest.raises(ValueError, match='e.json: the test split needs a '
                       '"search_protocol"'):
        PersonSearchJSONDataset(ann_file=path, split='test')
    path = write_json(tmp_path / 'f.json', images=[dict(id=1)], annotations=[])
    with pytest.raises(ValueError, match="f.json: image 0 lacks 'file_name'"):
        PersonSearchJSONDataset(ann_file=path)


def test_records_to_coco_needs_the_protocol_for_test():
    with pytest.raises(ValueError, match='needs its search_protocol'):
        records_to_coco([], 'test', '/root')


def test_seqnet_boxes_are_read_back_as_stored(tmp_path):
    from mmssl.testing import TINY_PRW_TEST, write_tiny_prw_root
    test = dict(TINY_PRW_TEST)
    test['c1s1_000101'] = ('box_new', [[10, 10, 10, 12, 30], [11, 90, 50, 20, 30],
                                       [-2, 40, 10, 0, 30]])
    root = write_tiny_prw_root(str(tmp_path / 'prw'), test=test)['root']
    native = PRWDataset(data_root=root, split='test')
    protocol = native.metainfo['search_protocol']
    for box_reading, boxes in (('seqnet', [[10, 10, 22, 40], [90, 50, 110, 80],
                                           [40, 10, 40, 40]]),
                               (None, [[10, 10, 22, 40], [90, 50, 96, 64]])):
        path = str(tmp_path / f'{box_reading}.json')
        with open(path, 'w') as f:
            json.dump(records_to_coco(records(native), 'test', root, protocol,
                                      box_reading=box_reading), f)
        loaded = PersonSearchJSONDataset(data_root=root, ann_file=path, split='test')
        assert [i['bbox'] for i in loaded.get_data_info(0)['instances']] == boxes
    assert records(loaded) != records(native)
    seqnet = PersonSearchJSONDataset(data_root=root, ann_file=str(tmp_path / 'seqnet.json'),
                                     split='test')
    assert records(seqnet) == records(native)
