"""evaluate_arrays / load_saved_arrays and tools/analysis_tools/eval_arrays.py: saved
detections and features evaluated against a tiny dataset root, with no image read."""
import json
import os.path as osp
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from mmssl.datasets import PRWDataset
from mmssl.evaluation import evaluate_arrays, load_saved_arrays
from mmssl.testing import write_tiny_cuhk_root, write_tiny_prw_root

ROOT = Path(__file__).resolve().parents[2]
DIM = 64


def one_hot(pid, row):
    feat = np.zeros(DIM, np.float32)
    feat[pid % DIM if pid >= 0 else DIM - 1 - row] = 1.0
    return feat


def oracle_arrays(dataset, jitter=0.0, seed=0):
    """The ground truth as detections (score 1), one-hot person features."""
    rng = np.random.default_rng(seed)
    protocol = dataset.metainfo['search_protocol']
    boxes, scores, feats = [], [], []
    for index in range(len(protocol['gallery_img_ids'])):
        instances = dataset.get_data_info(index)['instances']
        b = np.array([i['bbox'] for i in instances], np.float32).reshape(-1, 4)
        boxes.append(b + rng.normal(0, jitter, b.shape).astype(np.float32))
        scores.append(np.ones(len(b), np.float32))
        feats.append(np.array([one_hot(i['person_id'], r) for r, i in enumerate(instances)],
                              np.float32).reshape(-1, DIM))
    queries = np.array([one_hot(q['person_id'], 0) for q in protocol['queries']])
    return dict(gallery_boxes=boxes, gallery_scores=scores, gallery_feats=feats,
                query_feats=queries)


def build(config):
    from mmdet.registry import DATASETS
    return DATASETS.build(config)


@pytest.fixture
def prw_root(tmp_path):
    return write_tiny_prw_root(str(tmp_path / 'prw'), with_masks=False)['root']


def test_oracle_arrays_score_one_without_any_image(prw_root):
    config = dict(type='PRWDataset', data_root=prw_root, split='test')
    arrays = oracle_arrays(build(config))
    shutil.rmtree(osp.join(prw_root, 'frames'))
    figures = evaluate_arrays(config, **arrays)
    assert figures['search/mAP'] == 1.0 and figures['search/top1'] == 1.0
    assert figures['search/multi_view/mAP'] == 1.0
    assert figures['search/det_ap'] == 1.0 and figures['search/det_recall'] == 1.0
    # features that point elsewhere: the search figures drop, detection stays
    arrays['query_feats'] = np.roll(arrays['query_feats'], 1, axis=0)
    shuffled = evaluate_arrays(config, **arrays)
    assert shuffled['search/mAP'] < 0.5 and shuffled['search/det_ap'] == 1.0


def test_figures_equal_the_metric_on_packed_samples(prw_root):
    """The same arrays through a test pipeline (Resize, packed samples) and
    PersonSearchMetric give the same figures as evaluate_arrays."""
    from mmengine.evaluator import Evaluator
    from mmengine.registry import init_default_scope
    from mmengine.structures import InstanceData

    from mmdet.registry import DATASETS, METRICS
    init_default_scope('mmdet')
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='LoadPersonSearchAnnotations', with_bbox=True),
                dict(type='Resize', scale=(48, 32), keep_ratio=True),
                dict(type='PackPersonSearchInputs')]
    dataset = DATASETS.build(dict(type='PRWDataset', data_root=prw_root, split='test',
                                  test_mode=True, pipeline=pipeline))
    arrays = oracle_arrays(dataset, jitter=2.0)
    rng = np.random.default_rng(1)
    arrays['gallery_scores'] = [rng.uniform(0.3, 1, len(s)) for s in arrays['gallery_scores']]
    arrays['gallery_feats'] = [f + rng.normal(0, 0.5, f.shape) for f in arrays['gallery_feats']]
    evaluator = Evaluator(METRICS.build(dict(type='PersonSearchMetric')))
    evaluator.dataset_meta = dataset.metainfo
    num_gallery = len(dataset.metainfo['search_protocol']['gallery_img_ids'])
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        if index < num_gallery:
            pred = InstanceData(bboxes=torch.tensor(arrays['gallery_boxes'][index]),
                                scores=torch.tensor(arrays['gallery_scores'][index]),
                                embeddings=torch.tensor(arrays['gallery_feats'][index]))
        else:
            q = sample.query_index
            box = dataset.metainfo['search_protocol']['queries'][q]['bbox']
            pred = InstanceData(bboxes=torch.tensor([box]), scores=torch.ones(1),
                                embeddings=torch.tensor(arrays['query_feats'][q:q + 1]))
        sample.pred_instances = pred
        evaluator.process(data_samples=[sample], data_batch=None)
    through_metric = evaluator.evaluate(len(dataset))
    figures = evaluate_arrays(dict(type='PRWDataset', data_root=prw_root, split='test'),
                              **arrays)
    assert 0 < figures['search/mAP'] < 1 and 0 < figures['search/det_ap'] < 1
    assert figures == pytest.approx(through_metric, abs=1e-6)


def test_explicit_cuhk_galleries_and_metric_options(tmp_path):
    root = write_tiny_cuhk_root(str(tmp_path / 'cuhk'), with_masks=False)['root']
    config = dict(type='CUHKSYSUDataset', data_root=root, split='test',
                  gallery_sizes=(50, 100))
    arrays = oracle_arrays(build(config))
    arrays['gallery_scores'][1][:] = 0.3  # s11, a positive: below the search threshold
    shutil.rmtree(osp.join(root, 'Image'))
    figures = evaluate_arrays(config, **arrays)
    assert figures['search/det_recall'] == 1.0 and figures['search/mAP'] < 1.0
    assert set(figures) >= {'search/gallery_50/mAP', 'search/det_labelled_recall'}
    relaxed = evaluate_arrays(config, metric=dict(type='PersonSearchMetric', prefix='ps'),
                              score_thr=0.2, **arrays)
    assert relaxed['ps/mAP'] == 1.0


def test_file_layouts_give_the_same_figures(prw_root, tmp_path):
    config = dict(type='PRWDataset', data_root=prw_root, split='test')
    arrays = oracle_arrays(build(config), jitter=1.0)
    expected = evaluate_arrays(config, **arrays)
    with open(tmp_path / 'a.pkl', 'wb') as f:
        pickle.dump(arrays, f)
    # SeqNet's eval_cache.pth: [x1, y1, x2, y2, score] rows, query_box_feats
    torch.save(dict(gallery_dets=[torch.from_numpy(np.hstack([b, s[:, None]]))
                                  for b, s in zip(arrays['gallery_boxes'],
                                                  arrays['gallery_scores'])],
                    gallery_feats=[torch.from_numpy(f) for f in arrays['gallery_feats']],
                    query_box_feats=[torch.from_numpy(q[None]) for q in arrays['query_feats']]),
               tmp_path / 'eval_cache.pth')
    counts = [len(b) for b in arrays['gallery_boxes']]
    np.savez(tmp_path / 'a.npz', det_boxes=np.vstack(arrays['gallery_boxes']),
             det_scores=np.concatenate(arrays['gallery_scores']),
             det_feats=np.vstack(arrays['gallery_feats']),
             det_img_inds=np.repeat(np.arange(len(counts)), counts),
             num_images=len(counts), query_feats=arrays['query_feats'])
    for name in ('a.pkl', 'eval_cache.pth', 'a.npz'):
        loaded = load_saved_arrays(str(tmp_path / name))
        assert len(loaded['gallery_boxes']) == len(counts)
        assert evaluate_arrays(config, **loaded) == pytest.approx(expected), name
    with pytest.raises(ValueError, match=r"a.txt: unknown file type '.txt'"):
        load_saved_arrays(str(tmp_path / 'a.txt'))
    with open(tmp_path / 'b.pkl', 'wb') as f:
        pickle.dump(dict(gallery_feats=[]), f)
    with pytest.raises(ValueError, match=r"b.pkl: lacks \['query_feats'\]"):
        load_saved_arrays(str(tmp_path / 'b.pkl'))


def test_wrong_counts_and_shapes_are_named(prw_root):
    config = dict(type='PRWDataset', data_root=prw_root, split='test')
    arrays = oracle_arrays(build(config))
    short = dict(arrays, gallery_boxes=arrays['gallery_boxes'][:-1])
    with pytest.raises(ValueError, match='5 gallery_boxes arrays for 6 gallery images'):
        evaluate_arrays(config, **short)
    bad = dict(arrays, gallery_scores=[np.zeros(7)] + arrays['gallery_scores'][1:])
    with pytest.raises(ValueError, match=r'gallery image 0 \(c1s1_000101.jpg\) has 2 '
                       'boxes, 7 scores and 2 features'):
        evaluate_arrays(config, **bad)
    with pytest.raises(ValueError, match='2 query features for 3 queries'):
        evaluate_arrays(config, **dict(arrays, query_feats=arrays['query_feats'][:2]))
    with pytest.raises(ValueError, match="no search_protocol"):
        evaluate_arrays(dict(config, split='train', box_reading='seqnet'), **arrays)


def test_command_line_with_a_shipped_config(prw_root, tmp_path, capsys,
                                           load_tool):
    tool = load_tool('analysis_tools/eval_arrays.py')
    arrays = oracle_arrays(PRWDataset(data_root=prw_root, split='test'))
    with open(tmp_path / 'arrays.pkl', 'wb') as f:
        pickle.dump(arrays, f)
    shutil.rmtree(osp.join(prw_root, 'frames'))
    out = str(tmp_path / 'figures.json')
    figures = tool.main([str(ROOT / 'configs' / 'ssl_r50-c4_26e_prw.py'), str(tmp_path / 'arrays.pkl'),
                         '--data-root', prw_root, '--out', out,
                         '--cfg-options', 'test_evaluator.det_method=voc'])
    assert figures['search/mAP'] == 1.0 and figures['search/det_ap'] == 1.0
    assert json.load(open(out)) == pytest.approx(figures)
    printed = capsys.readouterr().out
    assert 'search/multi_view/top10' in printed
    assert ('as in the papers\' tables: mAP 100.0%  top-1 100.0%  detection AP 100.0%  '
            'detection recall 100.0%') in printed
