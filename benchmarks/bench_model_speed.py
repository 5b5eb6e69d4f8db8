"""Issue 4 benchmark: training step time with and without the exemplar branch, and
inference speed of the detector alone against the detector with the re-id head, on
the SynthPS config (``configs/ssl_synthps.py``) and real SynthPS batches.

Targets: exemplar branch <= 1.6x the step time without it; re-id head <= 1.05x the
detector's inference time.

    python benchmarks/bench_model_speed.py [--iters 20] [--images 40]

The untrained network is timed (its proposals are as many as a trained one's:
the RPN keeps its top-k); timings alternate between the two variants.
"""
import argparse
import json
import os.path as osp
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmdet.registry import DATASETS, MODELS  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmssl  # noqa: E402,F401


def build(cfg, **model_overrides):
    model_cfg = cfg.model.copy()
    model_cfg.update(model_overrides)
    model = MODELS.build(model_cfg)
    return model


def median(values):
    return sorted(values)[len(values) // 2]


def train_step(model, optimizer, batch):
    """Seconds of one forward + backward + SGD step."""
    start = time.perf_counter()
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start


@torch.no_grad()
def inference(model, sample):
    """Seconds of one test step on one image."""
    start = time.perf_counter()
    model.test_step(pseudo_collate([sample]))
    return time.perf_counter() - start


def interleaved(models, run, items, warmup=2):
    """Median seconds per item for each model, measured in alternation so that a
    change of machine load hits every model alike."""
    times = {name: [] for name in models}
    for i, item in enumerate(items):
        for name, model in models.items():
            seconds = run(model, item)
            if i >= warmup:
                times[name].append(seconds)
    return {name: median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=osp.join(REPO, 'configs/ssl_synthps.py'))
    parser.add_argument('--data-root', default=osp.join(REPO, 'data/synthps'))
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--images', type=int, default=40)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (the SynthPS configs use 1)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    init_default_scope('mmdet')
    cfg = Config.fromfile(args.config)
    cfg.train_dataloader.dataset.data_root = args.data_root
    cfg.test_dataloader.dataset.data_root = args.data_root
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    batches = [pseudo_collate([train_set[2 * i], train_set[2 * i + 1]])
               for i in range(args.iters)]
    gallery = [test_set[i] for i in range(args.images)]

    rows = {}
    with_branch = build(cfg)
    without_branch = build(cfg, exemplar_branch=None, loss_scale=None)
    optimizers = {}
    for model in (with_branch, without_branch):
        model.memory.resize(train_set.num_instances)
        model.memory.fill(torch.arange(train_set.num_instances),
                          torch.randn(train_set.num_instances, 256),
                          torch.randn(train_set.num_instances, 256))
        model.train()
        optimizers[id(model)] = torch.optim.SGD(model.parameters(), lr=1e-4,
                                                momentum=0.9)
    steps = interleaved(
        dict(with_exemplar=with_branch, without_exemplar=without_branch),
        lambda m, b: train_step(m, optimizers[id(m)], b), batches + batches[:2])
    rows['train_step_s_without_exemplar'] = steps['without_exemplar']
    rows['train_step_s_with_exemplar'] = steps['with_exemplar']
    rows['exemplar_step_ratio'] = (steps['with_exemplar'] /
                                   steps['without_exemplar'])

    detector = build(cfg, exemplar_branch=None, loss_scale=None,
                     loss_cluster=None, loss_dml=None,
                     roi_head=dict(cfg.model.roi_head, embedding_head=None))
    detector.load_state_dict(with_branch.state_dict(), strict=False)
    detector.eval()
    with_branch.eval()
    infer = interleaved(dict(detector=detector, with_reid=with_branch),
                        inference, gallery)
    rows['infer_s_per_img_detector'] = infer['detector']
    rows['infer_s_per_img_with_reid'] = infer['with_reid']
    rows['reid_inference_ratio'] = infer['with_reid'] / infer['detector']
    rows['torch_threads'] = torch.get_num_threads()

    print(f'{"measure":36s} {"value":>10s}')
    for key, value in rows.items():
        print(f'{key:36s} {value:10.3f}')
    print(f'exemplar target <= 1.6x: {"met" if rows["exemplar_step_ratio"] <= 1.6 else "MISSED"}; '
          f're-id target <= 1.05x: {"met" if rows["reid_inference_ratio"] <= 1.05 else "MISSED"}')
    print(json.dumps(rows))


if __name__ == '__main__':
    main()
