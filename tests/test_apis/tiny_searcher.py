"""A tiny SSL searcher trained once per test session, shared by the API, tool and
visualization tests.

Not a test module: test files load it by path (``load_tiny_searcher_module``
below, copied where needed) because pytest's importlib mode puts no test folder
on ``sys.path``. The run is cached under the session's base temp folder, so the
first test that asks trains it and the others reuse it.
"""
import contextlib
import fcntl
import json
import os
import os.path as osp
from pathlib import Path


@contextlib.contextmanager
def single_torch_thread():
    """Run torch with one intra-op thread, then restore the previous count.

    The tiny models gain nothing from threads, and on a loaded 2-core machine two
    OpenMP threads made a forward 10-20 times slower than one (measured here).
    """
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
        with single_torch_thread():
            runner.train()
        config = str(base_dir / 'tiny_ssl_synthps.py')
        cfg.dump(config)
        result = dict(config=config, checkpoint=osp.join(work_dir, 'epoch_1.pth'),
                      data_root=data_root, work_dir=work_dir)
        summary.write_text(json.dumps(result))
        return result
