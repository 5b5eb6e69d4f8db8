"""init_searcher, embed_query / embed_boxes, detect_and_embed on the tiny searcher.

The reference for each result is the model run through the config's own test
dataloader pipeline on the dataset's records (what ``tools/test.py`` does).
"""
import copy

import mmcv
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from mmssl.apis import (detect_and_embed, embed_boxes, embed_query, inference_pipeline,
                        init_searcher)


def embed_dim(model):
    return model.roi_head.embedding_head.embed_dim


def reference_prediction(model, record):
    """The model on a dataset record through the config's full test pipeline."""
    pipeline = Compose(copy.deepcopy(model.cfg.test_dataloader.dataset.pipeline))
    packed = pipeline(copy.deepcopy(record))
    with torch.no_grad():
        return model.test_step(dict(inputs=[packed['inputs']],
                                    data_samples=[packed['data_samples']]))[0]


def query_record(dataset, index):
    """The dataset record of query ``index``."""
    for i in range(len(dataset)):
        record = dataset.get_data_info(i)
        if record['is_query'] and record['query_index'] == index:
            return record
    raise AssertionError(f'no query {index}')


def test_init_searcher_loads_the_checkpoint(searcher, tiny_searcher):
    state = torch.load(tiny_searcher['checkpoint'], map_location='cpu',
                       weights_only=False)['state_dict']
    assert not searcher.training
    assert searcher.dataset_meta['classes'] == ('person', )
    for key in ('backbone.conv1.weight', 'roi_head.embedding_head.projection.weight',
                'memory.instance_feats'):
        torch.testing.assert_close(searcher.state_dict()[key], state[key])
    assert searcher.memory.num_samples == state['memory.instance_feats'].shape[0] > 0


def test_init_searcher_options_and_errors(tiny_searcher, tmp_path):
    model = init_searcher(tiny_searcher['config'], tiny_searcher['checkpoint'],
                          cfg_options={'model.test_cfg.rcnn.max_per_img': 3})
    image = tiny_searcher['data_root'] + 'frames/c1s1_000001.jpg'
    assert len(detect_and_embed(model, image)['scores']) <= 3
    with pytest.raises(RuntimeError, match='trust_checkpoint=True'):
        init_searcher(tiny_searcher['config'], tiny_searcher['checkpoint'],
                      trust_checkpoint=False)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        init_searcher(tiny_searcher['config'], str(tmp_path / 'missing.pth'))
    with pytest.raises(TypeError, match='config must be'):
        init_searcher(dict(model=None))
    untrained = init_searcher(tiny_searcher['config'])
    assert untrained.dataset_meta['classes'] == ('person', )


def test_inference_pipeline_drops_annotation_loaders(searcher):
    names = [type(t).__name__ for t in inference_pipeline(searcher, False).transforms]
    assert 'LoadPersonSearchAnnotations' not in names and names[0] == 'LoadImageFromFile'
    names = [type(t).__name__ for t in inference_pipeline(searcher, True).transforms]
    assert names[0] == 'LoadImageFromNDArray'


@pytest.mark.parametrize('model_name', ['searcher', 'upscaled_searcher'])
def test_embed_query_equals_the_test_pipeline_query(model_name, tiny_test_set, request):
    searcher = request.getfixturevalue(model_name)
    for q in (0, 3):
        record = query_record(tiny_test_set, q)
        box = record['instances'][0]['bbox']
        feat = embed_query(searcher, record['img_path'], box)
        expected = reference_prediction(searcher, record).pred_instances.embeddings[0]
        assert feat.shape == (embed_dim(searcher), ) and feat.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(feat), 1.0, atol=1e-5)
        np.testing.assert_allclose(feat, expected.numpy(), atol=1e-5)
        # an image array (BGR) gives the same feature as its path
        from_array = embed_query(searcher, mmcv.imread(record['img_path']), box)
        np.testing.assert_allclose(from_array, feat, atol=1e-5)


def test_upscaled_pipeline_really_rescales(upscaled_searcher, tiny_test_set):
    record = tiny_test_set.get_data_info(0)
    packed = inference_pipeline(upscaled_searcher, False)(
        dict(img_path=record['img_path'], img_id=record['img_id'], cam_id=-1,
             is_query=False, query_index=-1, instances=[]))
    np.testing.assert_allclose(packed['data_samples'].metainfo['scale_factor'],
                               (1.5, 1.5))


def test_embed_boxes_matches_single_queries(searcher, tiny_test_set):
    record = tiny_test_set.get_data_info(0)
    boxes = np.array([inst['bbox'] for inst in record['instances']])
    assert len(boxes) >= 2
    feats = embed_boxes(searcher, record['img_path'], boxes)
    assert feats.shape == (len(boxes), embed_dim(searcher))
    for box, feat in zip(boxes, feats):
        np.testing.assert_allclose(embed_query(searcher, record['img_path'], box),
                                   feat, atol=1e-5)
    # different persons do not all get one feature
    assert not np.allclose(feats[0], feats[1], atol=1e-3)


@pytest.mark.parametrize('box, match', [
    ([30, 10, 20, 50], 'is empty inside the 128x96 image'),
    ([500, 10, 600, 50], 'is empty inside'),
    ([1, 2, 3], 'must be 4 numbers'),
    ([1, 2, float('nan'), 4], '4 finite numbers'),
])
def test_bad_query_boxes(searcher, tiny_test_set, box, match):
    path = tiny_test_set.get_data_info(0)['img_path']
    with pytest.raises(ValueError, match=match) as info:
        embed_query(searcher, path, box)
    assert 'c' in str(info.value).split(':')[0]  # names the image


def test_bad_images(searcher, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        detect_and_embed(searcher, str(tmp_path / 'nope.jpg'))
    with pytest.raises(TypeError, match='file path or a numpy array'):
        detect_and_embed(searcher, 42)


@pytest.mark.parametrize('model_name', ['searcher', 'upscaled_searcher'])
def test_detect_and_embed_equals_the_test_pipeline_gallery(model_name, tiny_test_set,
                                                           request):
    searcher = request.getfixturevalue(model_name)
    record = tiny_test_set.get_data_info(1)
    dets = detect_and_embed(searcher, record['img_path'])
    expected = reference_prediction(searcher, record).pred_instances
    assert set(dets) == {'bboxes', 'scores', 'embeddings'}
    n = len(dets['scores'])
    assert n > 0 and dets['bboxes'].shape == (n, 4) and dets['embeddings'].shape == (
        n, embed_dim(searcher))
    np.testing.assert_allclose(dets['bboxes'], expected.bboxes.numpy(), atol=1e-3)
    np.testing.assert_allclose(dets['scores'], expected.scores.numpy(), atol=1e-5)
    np.testing.assert_allclose(dets['embeddings'], expected.embeddings.numpy(), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(dets['embeddings'], axis=1), 1.0, atol=1e-5)
    # boxes in original pixels: inside the frame
    assert dets['bboxes'][:, [0, 2]].max() <= record['width'] + 1e-3
    assert dets['bboxes'][:, [1, 3]].max() <= record['height'] + 1e-3
