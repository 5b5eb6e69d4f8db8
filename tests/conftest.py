"""Suite-wide settings and the fixtures that several test folders share."""
import importlib.util
import os
import os.path as osp
import sys
from pathlib import Path

import pytest
import torch

# One intra-op thread: on a small shared CPU two OpenMP threads that wait for each
# other make the model tests several times slower (see TorchThreadsHook).
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]


def load_tool(relative_path: str):
    """Import the script ``tools/<relative_path>`` as a module, once per session.

    Args:
        relative_path: e.g. ``'search_demo.py'`` or
            ``'analysis_tools/eval_arrays.py'``.
    """
    name = 'mmssl_tools_' + relative_path[:-len('.py')].replace('/', '_')
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, str(REPO / 'tools' / relative_path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(name='load_tool', scope='session')
def load_tool_fixture():
    """:func:`load_tool`: ``load_tool('search_demo.py').main([...])``."""
    return load_tool


@pytest.fixture(scope='session')
def tiny_searcher(tmp_path_factory) -> dict:
    """A tiny SSL searcher trained once per session, for the API, tool and
    visualization tests: the tiny SynthPS rendered, the tiny SSL config
    (:func:`mmssl.testing.tiny_ssl_config`) trained for one epoch (4 iterations)
    without validation, its config dumped. The frames are 128 x 96, the
    embeddings 32-d.

    Returns:
        dict with ``config`` (the dumped tiny config), ``checkpoint``,
        ``data_root`` and ``work_dir``.
    """
    from mmengine.runner import Runner
    from mmssl.testing import render_tiny_synthps, tiny_ssl_config
    base_dir = tmp_path_factory.getbasetemp() / 'tiny_searcher'
    base_dir.mkdir(parents=True, exist_ok=True)
    data_root = render_tiny_synthps(str(base_dir / 'synthps') + os.sep)
    work_dir = str(base_dir / 'work_dir')
    cfg = tiny_ssl_config(data_root, work_dir, max_epochs=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.experiment_name = 'tiny_searcher'
    Runner.from_cfg(cfg).train()
    config = str(base_dir / 'tiny_ssl_r18c16-c4_6e_synthps.py')
    cfg.dump(config)
    return dict(config=config, checkpoint=osp.join(work_dir, 'epoch_1.pth'),
                data_root=data_root, work_dir=work_dir)
