"""A tiny SSL searcher trained once per test session, shared by the API, tool and
visualization tests.

Not a test module: test files load it by path (``load_tiny_searcher_module``
below, copied where needed) because pytest's importlib mode puts no test folder
on ``sys.path``. The run is cached under the session's base temp folder, so the
first test that asks trains it and the others reuse it.
"""
import fcntl
import json
import os
import os.path as osp
from pathlib import Path

TINY_RENDER = dict(seed=0, num_train_ids=6, num_test_ids=4, num_train_frames=8,
                   num_test_frames=8, height=128, width=192, min_person_height=16,
                   max_person_height=112, progress=False)
TINY_SCALE = (192, 128)  # (width, height): frames as rendered
CONFIG = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                  'configs', 'ssl_synthps.py')


def tiny_ssl_config(data_root: str, work_dir: str):
    """``configs/ssl_synthps.py`` shrunk to seconds on a CPU: small frames, few
    RoIs, small exemplar scales, one epoch, no workers, no validation."""
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = data_root
        loader.dataset.render_cfg = dict(TINY_RENDER)
        for step in loader.dataset.pipeline:
            if step['type'] == 'Resize':
                step['scale'] = TINY_SCALE
    cfg.model.exemplar_branch.scales = [(32, 16), (64, 32)]
    cfg.model.train_cfg.rpn.sampler.num = 64
    cfg.model.train_cfg.rpn_proposal.max_per_img = 64
    for stage in cfg.model.train_cfg.rcnn:
        stage.sampler.num = 16
    cfg.model.test_cfg.rpn.max_per_img = 50
    cfg.model.test_cfg.rcnn.max_per_img = 20
    cfg.train_cfg.max_epochs = 1
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.custom_hooks[0].num_workers = 0
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    return cfg


def tiny_searcher_run(base_dir) -> dict:
    """Render the tiny SynthPS, train one epoch (4 iterations), return paths.

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
        from mmssl.datasets.synthps import render_synthps
        data_root = str(base_dir / 'synthps') + os.sep
        render_synthps(data_root, **TINY_RENDER)
        work_dir = str(base_dir / 'work_dir')
        cfg = tiny_ssl_config(data_root, work_dir)
        runner = Runner.from_cfg(cfg)
        runner.train()
        config = str(base_dir / 'tiny_ssl_synthps.py')
        cfg.dump(config)
        result = dict(config=config, checkpoint=osp.join(work_dir, 'epoch_1.pth'),
                      data_root=data_root, work_dir=work_dir)
        summary.write_text(json.dumps(result))
        return result
