"""In train mode a person's embeddings must not depend on the other persons of the batch.

The detector embeds the persons of a batch in small groups (the ground-truth boxes,
each size bucket of original-scale crops, each exemplar scale). Normalisation with
batch statistics would then make one person's f_i and exemplar features depend on
its group partners. Every shipped config with a re-id head is built here in train
mode and one person is embedded twice, beside two different partners (same image
size, same box size, so the partner shares every group).
"""
import copy
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmssl  # noqa: F401

CONFIG_ROOT = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs')
CONFIGS = sorted(
    osp.relpath(path, CONFIG_ROOT)
    for path in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True)
    if '_base_' not in path)
HEIGHT, WIDTH = 160, 224
PERSON = [20., 16., 68., 144.]
PARTNER = [140., 10., 188., 138.]  # the same size: the same crop bucket


def reid_model(config: str):
    """The config's model in train mode, or None without a re-id head."""
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, config))
    if cfg.model.get('roi_head', {}).get('embedding_head') is None:
        return None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # no init_weights: nothing is downloaded
    return model.train()


def scene(boxes, seed: int, first_row: int = 0):
    """A random image with its person boxes (memory rows from ``first_row``) and
    box-shaped masks."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.randint(0, 255, (3, HEIGHT, WIDTH), dtype=torch.uint8,
                          generator=generator)
    sample = DetDataSample(metainfo=dict(
        img_shape=(HEIGHT, WIDTH), ori_shape=(HEIGHT, WIDTH),
        pad_shape=(HEIGHT, WIDTH), scale_factor=(1.0, 1.0),
        batch_input_shape=(HEIGHT, WIDTH)))
    gt = InstanceData()
    gt.bboxes = HorizontalBoxes(torch.tensor(boxes))
    gt.labels = torch.zeros(len(boxes), dtype=torch.long)
    gt.instance_indices = torch.arange(first_row, first_row + len(boxes))
    masks = torch.zeros(len(boxes), HEIGHT, WIDTH, dtype=torch.uint8)
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        masks[k, int(y1):int(y2), int(x1):int(x2)] = 1
    gt.masks = BitmapMasks(masks.numpy(), HEIGHT, WIDTH)
    sample.gt_instances = gt
    return image, sample


def person_batch(partner_seed: int):
    """Two images: the fixed person in the first, a partner of the same box size
    (pixels drawn from ``partner_seed``) in the second, so the partner shares the
    person's batch, its crop bucket and every exemplar scale, but not its pixels'
    receptive field."""
    images, samples = zip(scene([PERSON], seed=0),
                          scene([PARTNER], seed=100 + partner_seed, first_row=1))
    return dict(inputs=list(images), data_samples=list(samples))


def embed_person(model, partner_seed: int):
    """f_i and the exemplar columns of the fixed person (row 0), train mode, from a
    copy of ``model`` (so both partners meet the same running statistics)."""
    model = copy.deepcopy(model)
    data = model.data_preprocessor(person_batch(partner_seed), True)
    with torch.no_grad():
        x = model.extract_feat(data['inputs'])
        feats = model.reid_features(data['inputs'], x, data['data_samples'])
    columns = [feats['instance_feats'][0]]
    if feats['exemplar_feats'] is not None:
        columns.extend(feats['exemplar_feats'][0])
    return columns


@pytest.mark.parametrize('config', CONFIGS)
def test_embeddings_do_not_depend_on_batch_partners(config):
    model = reid_model(config)
    if model is None:
        pytest.skip(f'{config} has no re-id head')
    first = embed_person(model, partner_seed=1)
    second = embed_person(model, partner_seed=2)
    for column, (a, b) in enumerate(zip(first, second)):
        cosine = float(F.cosine_similarity(a, b, dim=0))
        assert cosine >= 0.99, (
            f'{config}: column {column} (0 = f_i, then f^o, f^1..f^K) has cosine '
            f'{cosine:.3f} between two batch partners')


def test_the_check_sees_batch_statistics():
    """The same check fails with batch statistics in the embedding head."""
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(CONFIG_ROOT, 'ssl_r18c16-c4_6e_synthps.py'))
    cfg.model.roi_head.embedding_head.update(norm_stats='batch', num_domains=1)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    first = embed_person(model, partner_seed=1)
    second = embed_person(model, partner_seed=2)
    cosines = [float(F.cosine_similarity(a, b, dim=0))
               for a, b in zip(first, second)]
    assert min(cosines) < 0.9
