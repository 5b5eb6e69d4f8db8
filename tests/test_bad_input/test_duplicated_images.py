"""Case 5: an image listed twice (in one split file, or in both splits).

A duplicated name would give one image two records (two sets of memory rows for the
same persons, or a gallery image counted twice) or leak test frames into training:
every reader refuses it with an error that names the file(s) and the image.
"""
import os.path as osp
import re

import pytest
from mmengine.fileio import dump, load

from mmssl.datasets import (CUHKSYSUDataset, PersonSearchJSONDataset,
                            PRWDataset, records_to_coco)
from mmssl.datasets.formats import (load_cuhk_images, load_cuhk_pool,
                                    load_prw_name_list, save_cuhk_images,
                                    save_cuhk_pool, save_prw_name_list)
from mmssl.testing import TINY_PRW_TEST, TINY_PRW_TRAIN


def relist_prw(root, filename, key, names):
    save_prw_name_list(osp.join(root, filename), key, names)


def test_prw_frame_twice_in_frame_train(prw_root):
    names = list(TINY_PRW_TRAIN)
    relist_prw(prw_root, 'frame_train.mat', 'img_index_train',
               names + [names[1]])
    with pytest.raises(ValueError,
                       match=r"frame_train.mat: frame c2s1_000002 is listed "
                       r"twice in 'img_index_train' \(entries 1 and 5\)"):
        PRWDataset(data_root=prw_root, split='train')


def test_prw_frame_twice_in_frame_test(prw_root):
    names = list(TINY_PRW_TEST)
    # once without and once with the extension: the same frame
    relist_prw(prw_root, 'frame_test.mat', 'img_index_test',
               names + [names[0] + '.jpg'])
    with pytest.raises(ValueError, match=r'frame_test.mat: frame '
                       r'c1s1_000101.jpg is listed twice.*entries 0 and 6'):
        PRWDataset(data_root=prw_root, split='test')


@pytest.mark.parametrize('split', ['train', 'test'])
def test_prw_frame_in_both_splits(prw_root, split):
    train_name = list(TINY_PRW_TRAIN)[2]
    relist_prw(prw_root, 'frame_test.mat', 'img_index_test',
               list(TINY_PRW_TEST) + [train_name])
    this, other = (('frame_train.mat', 'frame_test.mat') if split == 'train'
                   else ('frame_test.mat', 'frame_train.mat'))
    with pytest.raises(ValueError) as info:
        PRWDataset(data_root=prw_root, split=split)
    message = str(info.value)
    assert re.search(rf'{this} and .*{other} both list frame {train_name}',
                     message), message
    assert osp.join(prw_root, this) in message


def test_prw_lists_still_read_when_unique(prw_root):
    """The check reads names, it does not reorder or drop any."""
    assert load_prw_name_list(osp.join(prw_root, 'frame_test.mat'),
                              'img_index_test') == list(TINY_PRW_TEST)
    dataset = PRWDataset(data_root=prw_root, split='test')
    assert dataset.metainfo['search_protocol']['gallery_img_ids'] == [
        name + '.jpg' for name in TINY_PRW_TEST
    ]


def test_cuhk_image_twice_in_images_mat(cuhk_root):
    path = osp.join(cuhk_root, 'annotation', 'Images.mat')
    images = load_cuhk_images(path)
    save_cuhk_images(path, images + [images[1]])
    with pytest.raises(ValueError, match=r'Images.mat: Img record 10: image '
                       r's2.jpg is listed twice \(records 1 and 10\)'):
        CUHKSYSUDataset(data_root=cuhk_root, split='train')


def test_cuhk_image_twice_in_pool(cuhk_root):
    path = osp.join(cuhk_root, 'annotation', 'pool.mat')
    pool = load_cuhk_pool(path)
    save_cuhk_pool(path, pool[:3] + [pool[1]] + pool[3:])
    with pytest.raises(ValueError, match=r'pool.mat: test image s11.jpg is '
                       r'listed twice \(entries 1 and 3\)'):
        CUHKSYSUDataset(data_root=cuhk_root, split='test')
    # the train split is "all images but the pool": it reads the pool too
    with pytest.raises(ValueError, match='pool.mat: test image s11.jpg'):
        CUHKSYSUDataset(data_root=cuhk_root, split='train')


def json_file(prw_root, split, tmp_path):
    dataset = PRWDataset(data_root=prw_root, split=split)
    records = [dataset.get_data_info(i) for i in range(len(dataset))]
    coco = records_to_coco(records, split, prw_root,
                           dataset.metainfo.get('search_protocol'))
    path = str(tmp_path / f'{split}.json')
    dump(coco, path)
    return path


def test_json_file_name_twice(prw_root, tmp_path):
    path = json_file(prw_root, 'train', tmp_path)
    coco = load(path)
    twin = dict(coco['images'][0], id=99)
    coco['images'].append(twin)
    dump(coco, path)
    with pytest.raises(ValueError, match=r'train.json: image c1s1_000001.jpg '
                       r'is listed twice \(images 0 and 4\)'):
        PersonSearchJSONDataset(data_root=prw_root, ann_file=path,
                                split='train')


def test_json_image_id_twice(prw_root, tmp_path):
    path = json_file(prw_root, 'train', tmp_path)
    coco = load(path)
    old_id, new_id = coco['images'][2]['id'], coco['images'][0]['id']
    coco['images'][2]['id'] = new_id
    for ann in coco['annotations']:  # no orphan: its boxes follow the id
        if ann['image_id'] == old_id:
            ann['image_id'] = new_id
    dump(coco, path)
    with pytest.raises(ValueError, match=r'train.json: image 2 '
                       r'\(c3s1_000003.jpg\) reuses the id 1 of image 0'):
        PersonSearchJSONDataset(data_root=prw_root, ann_file=path,
                                split='train')
