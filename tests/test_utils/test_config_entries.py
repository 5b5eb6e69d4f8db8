"""Config entries found by type (mmssl.utils.config_entries)."""
from mmengine.config import Config

from mmssl.engine.hooks import PseudoLabelHook
from mmssl.utils.config_entries import (config_hooks, entries_of_type,
                                        entry_type_name, evaluator_metrics)


def test_entry_type_name_reads_strings_scopes_and_classes():
    assert entry_type_name(dict(type='PseudoLabelHook')) == 'PseudoLabelHook'
    assert entry_type_name(dict(type='mmdet.PseudoLabelHook')) == 'PseudoLabelHook'
    assert entry_type_name(dict(type=PseudoLabelHook)) == 'PseudoLabelHook'
    assert entry_type_name(dict(priority='LOW')) is None
    assert entry_type_name('PseudoLabelHook') is None


def test_config_hooks_are_the_configs_own_entries_in_order():
    cfg = Config(dict(
        default_hooks=dict(logger=dict(type='LoggerHook'),
                           labels=dict(type='PseudoLabelHook', start_epoch=2)),
        custom_hooks=[dict(type='MemoryBankHook'),
                      dict(type='mmdet.PseudoLabelHook', start_epoch=3)]))
    hooks = config_hooks(cfg, 'PseudoLabelHook')
    assert [hook['start_epoch'] for hook in hooks] == [2, 3]
    hooks[1]['start_epoch'] = 5
    assert cfg.custom_hooks[1]['start_epoch'] == 5
    assert config_hooks(cfg, 'TorchThreadsHook') == []
    assert config_hooks(Config(dict()), 'PseudoLabelHook') == []


def test_evaluator_metrics_accepts_each_evaluator_form():
    metric = dict(type='PersonSearchMetric', score_thr=0.3)
    for evaluator in (metric, [dict(type='CocoMetric'), metric],
                      dict(type='Evaluator', metrics=[metric])):
        assert evaluator_metrics(evaluator, 'PersonSearchMetric') == [metric]
    assert evaluator_metrics(None, 'PersonSearchMetric') == []
    assert entries_of_type([dict(type='CocoMetric')], 'PersonSearchMetric') == []
