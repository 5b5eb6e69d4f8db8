"""The trainer's thread policy for tools (mmssl.utils.threads), and the tools that
run the model applying it."""
import sys
from pathlib import Path

import faiss
import pytest
import torch
from mmengine.config import Config

from mmssl.utils import (apply_thread_policy, config_num_threads, resolve_num_threads,
                         set_runner_threads)


@pytest.fixture
def restore_threads():
    yield
    torch.set_num_threads(1)  # the suite's setting (tests/conftest.py)
    faiss.omp_set_num_threads(1)


def test_config_num_threads_reads_the_hook():
    assert config_num_threads(Config(dict(default_hooks=dict(
        torch_threads=dict(type='TorchThreadsHook', num_threads=3))))) == 3
    assert config_num_threads(Config(dict(custom_hooks=[
        dict(type='MemoryBankHook'),
        dict(type='mmdet.TorchThreadsHook', num_threads=2)]))) == 2
    assert config_num_threads(Config(dict(default_hooks=dict(
        logger=dict(type='LoggerHook'))))) is None
    assert config_num_threads(Config(dict())) is None
    assert resolve_num_threads(Config(dict()), 4) == 4
    with pytest.raises(ValueError, match='--threads must be >= 1'):
        resolve_num_threads(Config(dict()), 0)


def test_apply_thread_policy(restore_threads):
    cfg = Config(dict(default_hooks=dict(
        torch_threads=dict(type='TorchThreadsHook', num_threads=2))))
    assert apply_thread_policy(cfg) == 2
    assert torch.get_num_threads() == 2
    assert apply_thread_policy(cfg, threads=1) == 1
    assert torch.get_num_threads() == 1
    torch.set_num_threads(2)
    assert apply_thread_policy(Config(dict())) is None  # torch's setting stays
    assert torch.get_num_threads() == 2


def test_set_runner_threads():
    cfg = Config(dict(default_hooks=dict(
        torch_threads=dict(type='TorchThreadsHook', num_threads=1))))
    set_runner_threads(cfg, 3)
    assert cfg.default_hooks.torch_threads.num_threads == 3
    custom = Config(dict(custom_hooks=[dict(type='TorchThreadsHook', num_threads=1)]))
    set_runner_threads(custom, 2)
    assert custom.custom_hooks[0]['num_threads'] == 2 and 'default_hooks' not in custom
    bare = Config(dict(default_hooks=dict(logger=dict(type='LoggerHook'))))
    set_runner_threads(bare, 2)
    assert bare.default_hooks.torch_threads == dict(type='TorchThreadsHook',
                                                    num_threads=2)
    set_runner_threads(bare, None)
    assert config_num_threads(bare) == 2


def test_tools_test_passes_threads_to_the_runner(monkeypatch, load_tool):
    tool = load_tool('test.py')
    monkeypatch.setattr(sys, 'argv', ['test.py', 'cfg.py', 'ckpt.pth', '--threads', '2'])
    assert tool.parse_args().threads == 2


def test_search_demo_applies_the_config_policy(tiny_searcher, tmp_path, restore_threads,
                                                capsys, load_tool):
    """The tiny config has no TorchThreadsHook: --threads sets the count; a config
    with the hook sets it without --threads."""
    demo = load_tool('search_demo.py')
    frames = sorted((Path(tiny_searcher['data_root']) / 'frames').glob('*.jpg'))[:2]
    argv = ['--query-image', str(frames[0]), '--query-box', '20', '10', '40', '70',
            '--gallery', str(frames[1]), '--topk', '1', '--score-thr', '0',
            '--out', str(tmp_path / 'q.png')]
    demo.main([tiny_searcher['config'], tiny_searcher['checkpoint'], '--threads', '2']
              + argv)
    assert torch.get_num_threads() == 2
    assert 'torch intra-op threads: 2' in capsys.readouterr().out
    cfg = Config.fromfile(tiny_searcher['config'])
    cfg.default_hooks['torch_threads'] = dict(type='TorchThreadsHook', num_threads=1)
    cfg.dump(str(tmp_path / 'with_hook.py'))
    demo.main([str(tmp_path / 'with_hook.py'), tiny_searcher['checkpoint']] + argv)
    assert torch.get_num_threads() == 1
    assert 'torch intra-op threads: 1' in capsys.readouterr().out
