"""A tiny SSL searcher trained once per test session, shared by the API, tool and
visualization tests (the ``tiny_searcher`` fixture of ``tests/conftest.py``).

The run is cached under the session's base temp folder, so the first test that
asks trains it and the others reuse it.
"""
import fcntl
import json
import os
import os.path as osp
from pathlib import Path


def load_module_from_path(name: str, path) -> object:
    """Import a script (a tool under ``tools/``) as module ``name``, once."""
    import importlib.util
    import sys
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, str(path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def tiny_config(data_root: str, work_dir: str):
    """The project's tiny SSL config (:func:`mmssl.testing.tiny_runs.tiny_ssl_config`)
    for one epoch (4 iterations), without validation, checkpoint at the end."""
    from mmssl.testing.tiny_runs import tiny_ssl_config
    cfg = tiny_ssl_config(data_root, work_dir, max_epochs=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.experiment_name = 'tiny_searcher'
    return cfg


def tiny_searcher_run(base_dir) -> dict:
    """Render the tiny SynthPS, train one epoch (4 iterations), return paths.

    The frames are 128 x 96, the embeddings 32-d (the tiny config's sizes).

    Returns:
        dict with ``config`` (the dumped tiny config), ``checkpoint``,
        ``data_root`` and ``work_dir``.
    """
    base_dir = Path(base_dir)
    base_dir.mkdir(parents=True, exist_ok=True)
    summary = base_dir / 'tiny_searcher.json'
    with open(base_dir / '.lock', 'a+') as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if summary.is_file():
            return json.loads(summary.read_text())
        from mmengine.runner import Runner
        from mmssl.testing.tiny_runs import render_tiny_synthps
        data_root = render_tiny_synthps(str(base_dir / 'synthps') + os.sep)
        work_dir = str(base_dir / 'work_dir')
        cfg = tiny_config(data_root, work_dir)
        runner = Runner.from_cfg(cfg)
        runner.train()
        config = str(base_dir / 'tiny_ssl_synthps.py')
        cfg.dump(config)
        result = dict(config=config, checkpoint=osp.join(work_dir, 'epoch_1.pth'),
                      data_root=data_root, work_dir=work_dir)
        summary.write_text(json.dumps(result))
        return result
