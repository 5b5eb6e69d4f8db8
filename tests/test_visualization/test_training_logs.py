"""read_pseudo_label_stats / read_metric_records on files as MMEngine writes them."""
import json

import pytest

from mmssl.visualization import read_metric_records, read_pseudo_label_stats


def hook_line(stats):
    """A log line as PseudoLabelHook writes it through MMEngine's logger."""
    return ('2026/11/29 15:28:05 - mmengine - INFO - pseudo labels '
            + json.dumps(stats) + '\n')


def test_pseudo_label_lines(tmp_path):
    log = tmp_path / 'run.log'
    log.write_text(
        '2026/11/29 15:28:04 - mmengine - INFO - Epoch(train) [1][50/200] loss: 1.0\n'
        + hook_line(dict(epoch=1, clusters=10, cluster_precision=0.5))
        + hook_line(dict(epoch=2, clusters=12, cluster_precision=0.6))
        + 'pseudo labels of epoch 2 restored from the checkpoint\n'
        + hook_line(dict(epoch=2, clusters=13, cluster_precision=0.7)))
    stats = read_pseudo_label_stats(str(log))
    assert [s['epoch'] for s in stats] == [1, 2]
    assert stats[1]['clusters'] == 13  # the resumed run's line wins


def test_pseudo_label_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.log'):
        read_pseudo_label_stats(str(tmp_path / 'missing.log'))
    bad = tmp_path / 'bad.log'
    bad.write_text('x\n2026 - INFO - pseudo labels {"epoch": 1,\n')
    with pytest.raises(ValueError, match=r'bad.log:2: pseudo-label line'):
        read_pseudo_label_stats(str(bad))
    empty = tmp_path / 'empty.log'
    empty.write_text('nothing here\n')
    assert read_pseudo_label_stats(str(empty)) == []


def test_metric_records_both_layouts(tmp_path):
    test_json = tmp_path / 'test.json'
    test_json.write_text(json.dumps({'search/mAP': 0.5, 'time': 1.0}, indent=4))
    assert read_metric_records(str(test_json)) == [{'search/mAP': 0.5, 'time': 1.0}]
    scalars = tmp_path / 'scalars.json'
    scalars.write_text('{"loss": 1.0, "step": 1}\n\n{"search/mAP": 0.3, "step": 1}\n')
    assert read_metric_records(str(scalars)) == [{'loss': 1.0, 'step': 1},
                                                 {'search/mAP': 0.3, 'step': 1}]
    broken = tmp_path / 'broken.json'
    broken.write_text('{"a": 1}\n{"b": \n')
    with pytest.raises(ValueError, match='broken.json:2'):
        read_metric_records(str(broken))
    with pytest.raises(FileNotFoundError):
        read_metric_records(str(tmp_path / 'nope.json'))
