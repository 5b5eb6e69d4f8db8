"""Case 1: a missing or corrupt image (random bytes, empty, truncated JPEG).

At dataset init the readers take each image's size from its header
(``read_image_size``): a missing file, one PIL cannot identify, or a JPEG/PNG cut
short (no end-of-image marker) is an error naming the file. An image that breaks
after init (deleted or overwritten while training) fails in the pipeline with an
error whose message or note names the file, whatever the decoder.
"""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl.datasets import CUHKSYSUDataset, PRWDataset
from mmssl.datasets.person_search_dataset import (IMAGE_TAIL_BYTES,
                                                  read_image_size)

DAMAGES = ('missing', 'random_bytes', 'empty', 'truncated')
INIT_ERRORS = {
    'missing': (FileNotFoundError, 'image file not found'),
    'random_bytes': (ValueError, 'not a readable image'),
    'empty': (ValueError, 'not a readable image'),
    'truncated': (ValueError, 'truncated JPEG file'),
}


def damage(path: str, how: str) -> None:
    """Break an image file in place."""
    if how == 'missing':
        os.remove(path)
        return
    with open(path, 'rb') as f:
        data = f.read()
    if how == 'random_bytes':
        data = np.random.default_rng(0).bytes(len(data))
    elif how == 'empty':
        data = b''
    elif how == 'truncated':
        data = data[:len(data) // 2]
    with open(path, 'wb') as f:
        f.write(data)


def frame(root: str, name: str) -> str:
    return osp.join(root, 'frames', name + '.jpg')


@pytest.mark.parametrize('how', DAMAGES)
@pytest.mark.parametrize('split, name', [('train', 'c2s1_000002'),
                                         ('test', 'c3s1_000103')])
def test_prw_init_names_the_image(prw_root, split, name, how):
    path = frame(prw_root, name)
    damage(path, how)
    error, words = INIT_ERRORS[how]
    with pytest.raises(error) as info:
        PRWDataset(data_root=prw_root, split=split)
    assert str(info.value).startswith(f'{path}: {words}')


@pytest.mark.parametrize('how', DAMAGES)
def test_cuhk_init_names_the_image(cuhk_root, how):
    path = osp.join(cuhk_root, 'Image', 'SSM', 's12.jpg')
    damage(path, how)
    error, words = INIT_ERRORS[how]
    with pytest.raises(error) as info:
        CUHKSYSUDataset(data_root=cuhk_root, split='test')
    assert str(info.value).startswith(f'{path}: {words}')


def test_truncation_check_at_every_length(tmp_path):
    """Every cut of a JPEG that keeps the header is caught, and only those."""
    image = np.random.default_rng(1).integers(0, 255, (48, 32, 3), np.uint8)
    path = str(tmp_path / 'a.jpg')
    cv2.imwrite(path, image)
    with open(path, 'rb') as f:
        data = f.read()
    assert read_image_size(path) == (32, 48)
    for cut in range(1, len(data) - 600, 97):
        with open(path, 'wb') as f:
            f.write(data[:-cut])
        with pytest.raises(ValueError, match='truncated JPEG'):
            read_image_size(path)
    # bytes after the end marker (padding, small trailers) are accepted
    with open(path, 'wb') as f:
        f.write(data + b'\0' * (IMAGE_TAIL_BYTES - 64))
    assert read_image_size(path) == (32, 48)


def test_truncated_png(tmp_path):
    path = str(tmp_path / 'a.png')
    cv2.imwrite(path, np.zeros((20, 30), np.uint8))
    assert read_image_size(path) == (30, 20)
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:-12])  # without the IEND chunk
    with pytest.raises(ValueError, match=r'a.png: truncated PNG file'):
        read_image_size(path)


@pytest.mark.parametrize('how', DAMAGES)
@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_damage_after_init_fails_in_the_pipeline(prw_root, error_text, how,
                                                 backend):
    pipeline = [
        dict(type='LoadImageFromFile', imdecode_backend=backend),
        dict(type='LoadPersonSearchAnnotations', with_fg_mask=True),
        dict(type='PackPersonSearchInputs'),
    ]
    dataset = PRWDataset(data_root=prw_root, split='train', pipeline=pipeline)
    record = dataset.get_data_info(1)
    assert dataset[1]['data_samples'].img_id == record['img_id']  # loads
    damage(record['img_path'], how)
    with pytest.raises(Exception) as info:
        dataset[1]
    text = error_text(info.value)
    assert record['img_path'] in text, text
    assert 'PRWDataset (train split): while loading record 1' in text, text
    # the other records still load
    assert dataset[0]['data_samples'].img_id == 'c1s1_000001.jpg'
