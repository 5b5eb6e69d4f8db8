"""SearchVisualizationHook: collection, ranking, colours, and tools/test.py --show-dir."""
import importlib.util
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmssl.apis import ProtocolQuery
from mmssl.visualization import (SearchVisualizationHook, evaluator_score_thr,
                                 sample_query_indices)

TEST_TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'test.py'


def sample(img_id, boxes, scores, feats, is_query=False, query_index=-1):
    data = DetDataSample(metainfo=dict(img_id=img_id, is_query=is_query,
                                       query_index=query_index))
    data.pred_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        scores=torch.tensor(scores, dtype=torch.float32),
        embeddings=torch.tensor(feats, dtype=torch.float32).reshape(len(scores), -1))
    return data


def test_sample_query_indices():
    assert sample_query_indices(100, 5) == [0, 25, 50, 74, 99]
    assert sample_query_indices(3, 10) == [0, 1, 2]
    assert sample_query_indices(0, 10) == [] and sample_query_indices(5, 0) == []


def test_evaluator_score_thr():
    assert evaluator_score_thr(dict(type='PersonSearchMetric', score_thr=0.3)) == 0.3
    assert evaluator_score_thr([dict(type='CocoMetric'),
                                dict(type='mmdet.PersonSearchMetric')]) == 0.5
    assert evaluator_score_thr(None) == 0.5


def test_collects_kept_detections_and_query_features():
    hook = SearchVisualizationHook(out_dir='unused', score_thr=0.5)
    hook.after_test_iter(None, 0, outputs=[
        sample('a.jpg', [[0, 0, 5, 5], [1, 1, 6, 6]], [0.9, 0.4], [[1, 0], [0, 1]]),
        sample('a.jpg', [[2, 2, 9, 9]], [1.0], [[0.6, 0.8]], True, 3)])
    kept = hook._gallery['a.jpg']
    np.testing.assert_array_equal(kept['bboxes'], [[0, 0, 5, 5]])
    np.testing.assert_array_equal(kept['embeddings'], [[1, 0]])
    np.testing.assert_allclose(hook._queries[3], [0.6, 0.8])


def test_rank_query_marks_the_person_green():
    hook = SearchVisualizationHook(out_dir='unused', topk=3, score_thr=0.5)
    person = np.array([[10.0, 10.0, 30.0, 70.0]])
    query = ProtocolQuery(query_index=0, img_id='q.jpg', bbox=person[0], person_id=4,
                          cam_id=1, gallery_indices=np.array([1, 2]),
                          positive_boxes={2: person})
    gallery = {
        'q.jpg': dict(bboxes=person, scores=np.ones(1), embeddings=np.array([[1.0, 0]])),
        'b.jpg': dict(bboxes=np.array([[0, 0, 5, 5]]), scores=np.ones(1),
                      embeddings=np.array([[0.8, 0.6]])),
        'c.jpg': dict(bboxes=np.array([[11, 12, 30, 70], [40, 10, 60, 70],
                                       [11, 11, 30, 70]]),
                      scores=np.array([0.9, 0.9, 0.4]),
                      embeddings=np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])),
    }
    ranked = hook.rank_query(query, np.array([1.0, 0.0]), gallery,
                             ['q.jpg', 'b.jpg', 'c.jpg'])
    # the query image is not in its gallery; the 0.4 detection is below threshold
    np.testing.assert_allclose(ranked['similarities'], [1.0, 0.8, 0.0])
    assert ranked['gallery_indices'].tolist() == [2, 1, 2]
    assert ranked['correct'].tolist() == [True, False, False]
    np.testing.assert_allclose(ranked['bboxes'][0], [11, 12, 30, 70])


def test_arguments_are_checked():
    with pytest.raises(ValueError, match='topk >= 1'):
        SearchVisualizationHook(out_dir='x', topk=0)


def load_test_tool():
    spec = importlib.util.spec_from_file_location('mmssl_tools_test', TEST_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tools_test_show_dir(tiny_searcher, tmp_path, monkeypatch):
    tool = load_test_tool()
    show_dir = tmp_path / 'pictures'
    monkeypatch.setattr('sys.argv', [
        'test.py', tiny_searcher['config'], tiny_searcher['checkpoint'],
        '--work-dir', str(tmp_path / 'work'), '--show-dir', str(show_dir),
        '--show-num', '3', '--cfg-options', 'test_evaluator.score_thr=0.0',
        'experiment_name=show_dir_test'])
    before = os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD')
    try:
        tool.main()
    finally:  # tools/test.py trusts checkpoints process-wide; undo that here
        if before is None:
            os.environ.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    from mmssl.datasets import SynthPSDataset
    test_set = SynthPSDataset(data_root=tiny_searcher['data_root'], split='test',
                              test_mode=True, pipeline=[])
    num_queries = len(test_set.metainfo['search_protocol']['queries'])
    assert num_queries > 3
    pictures = sorted(os.listdir(show_dir))
    assert pictures == [f'query_{q:05d}.png'
                        for q in sample_query_indices(num_queries, 3)]
    for name in pictures:
        data = (show_dir / name).read_bytes()
        assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 20000
        image = cv2.imread(str(show_dir / name))
        # one row: the query and 5 matches, each 1.5 times as wide as tall
        assert image.shape[1] > 4 * image.shape[0] and image.std() > 10
