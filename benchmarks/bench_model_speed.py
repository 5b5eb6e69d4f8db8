"""Issues 4 and 16 benchmark: training step time with and without the exemplar
branch, and inference speed of the detector alone against the detector with the
re-id head, on the SynthPS config (``configs/ssl_r18c16-c4_6e_synthps.py``) and real SynthPS
batches.

Targets: exemplar branch <= 1.5x the step time without it (issue 16; 1.6x in issue
4); re-id head <= 1.05x the detector's inference time.

    python benchmarks/bench_model_speed.py [--iters 20] [--repeats 3] [--images 40]
    python benchmarks/bench_model_speed.py --breakdown   # where the branch's time goes
    python benchmarks/bench_model_speed.py --profile     # ... operator by operator
    python benchmarks/bench_model_speed.py --macs        # convolution work and rate

The untrained network is timed (its proposals are as many as a trained one's:
the RPN keeps its top-k). Training steps: one warm-up pass over the batches (the
convolution library builds its kernels for each new input shape once, as in the
first steps of a training), then ``--repeats`` timed passes; the two variants
alternate step by step, in ABBA order, so that a change of machine load or a
position effect hits both alike. Wall-clock and this thread's CPU time are both
reported: on a loaded machine the CPU time is the steadier of the two.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmdet.registry import DATASETS, MODELS  # noqa: E402
from mmdet.structures.bbox import get_box_tensor  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmssl  # noqa: E402,F401
from mmssl.models.layers import (crop_roi_feats, frozen_bn_statistics,  # noqa: E402
                                 make_exemplar_crops, original_crop_roi_feats)


def build(cfg, **model_overrides):
    model_cfg = cfg.model.copy()
    model_cfg.update(model_overrides)
    model = MODELS.build(model_cfg)
    return model


def median(values):
    return sorted(values)[len(values) // 2]


def train_step(model, optimizer, batch):
    """Wall-clock and CPU seconds of one forward + backward + SGD step."""
    start, start_cpu = time.perf_counter(), time.thread_time()
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start, time.thread_time() - start_cpu


def interleaved_steps(models, optimizers, batches, repeats):
    """Median wall and CPU seconds per step of each of two models after a warm-up
    pass, the models alternating step by step in ABBA order."""
    names = list(models)
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    for rep in range(repeats + 1):
        for i, batch in enumerate(batches):
            order = names if (rep * len(batches) + i) % 2 == 0 else names[::-1]
            for name in order:
                seconds, cpu_seconds = train_step(models[name], optimizers[name],
                                                  batch)
                if rep > 0:  # the first pass warms up
                    wall[name].append(seconds)
                    cpu[name].append(cpu_seconds)
    return ({name: median(v) for name, v in wall.items()},
            {name: median(v) for name, v in cpu.items()})


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


def cpu_seconds(fn):
    """This thread's CPU seconds for ``fn()``."""
    start = time.thread_time()
    fn()
    return time.thread_time() - start


def backward(out):
    out.backward(torch.ones_like(out))


def branch_parts(model, batch):
    """CPU seconds of each part of the exemplar branch on one batch, forward and
    backward (each part's backward right after its forward), as embed_exemplars
    runs them."""
    data = model.data_preprocessor(batch, True)
    gts = [ds.gt_instances for ds in data['data_samples']]
    boxes = [get_box_tensor(g.bboxes) for g in gts]
    masks = [g.masks.to_tensor(torch.float32, 'cpu') for g in gts]
    mean = model.data_preprocessor.mean.view(-1)
    std = model.data_preprocessor.std.view(-1)
    background = (0.0 - mean) / std
    parts, crops = {}, {}

    def make_crops():
        crops['originals'], crops['scaled'] = [], [[] for _ in model.exemplar_scales]
        for image, img_boxes, img_masks in zip(data['inputs'], boxes, masks):
            originals, scaled = make_exemplar_crops(
                image, img_boxes, img_masks, model.exemplar_scales, background)
            crops['originals'].extend(originals)
            for k, c in enumerate(scaled):
                crops['scaled'][k].append(c)

    parts['crops: cut, mask, resize'] = cpu_seconds(make_crops)
    extractor = model.roi_head.bbox_roi_extractor[-1]
    feats = []
    with frozen_bn_statistics(model):
        def originals():
            feats.append(original_crop_roi_feats(
                model.extract_feat, model.backbone, extractor, crops['originals'],
                background, model.with_neck))
            backward(feats[-1])
        parts['original-size crops: canvas backbone + RoIAlign'] = cpu_seconds(
            originals)
        for k, scale in enumerate(model.exemplar_scales):
            def scaled():
                batch_k = torch.cat(crops['scaled'][k])
                size = (batch_k.shape[3], batch_k.shape[2])
                feats.append(crop_roi_feats(model.extract_feat, model.backbone,
                                            extractor, batch_k,
                                            [size] * len(batch_k)))
                backward(feats[-1])
            parts[f'scale {scale[0]} x {scale[1]}: backbone + RoIAlign'] = (
                cpu_seconds(scaled))
        roi_feats = torch.cat(feats).detach().requires_grad_()
        out = {}

        def res5():
            out['res5'] = model.roi_head.stage_shared_heads[-1](roi_feats)
            backward(out['res5'])
        parts['res5 on all crops'] = cpu_seconds(res5)
    num = len(crops['originals'])

    def head():
        res5_feats = out['res5'].detach().requires_grad_()
        backward(torch.stack([
            model.roi_head._embed(r, f, domain=1 + k) for k, (r, f) in enumerate(
                zip(roi_feats.detach().split(num), res5_feats.split(num)))
        ], dim=1))
    parts['embedding head (per domain)'] = cpu_seconds(head)
    model.zero_grad()
    return parts


def breakdown(models, optimizers, batches, repeats):
    """Median CPU ms per step: both steps, and each part of the branch."""
    times = {}
    for rep in range(repeats + 1):
        for batch in batches:
            rows = {'train step without the exemplar branch': train_step(
                models['without_exemplar'], optimizers['without_exemplar'],
                batch)[1],
                    'train step with the exemplar branch': train_step(
                models['with_exemplar'], optimizers['with_exemplar'], batch)[1]}
            rows.update(branch_parts(models['with_exemplar'], batch))
            if rep > 0:
                for key, value in rows.items():
                    times.setdefault(key, []).append(value)
    print(f'{"CPU ms per step (median)":52s} {"ms":>7s}')
    for key, values in times.items():
        print(f'{key:52s} {1000 * median(values):7.1f}')
    print(json.dumps({k: median(v) for k, v in times.items()}))


def warm_up(models, optimizers, batches):
    """One training step of each model on each batch (oneDNN builds its kernels
    once per input shape, as in the first steps of a training)."""
    for batch in batches:
        for name in models:
            train_step(models[name], optimizers[name], batch)


def is_convolution(operator: str) -> bool:
    """Whether a profiler key is a convolution's forward or backward kernel."""
    return 'convolution' in operator or operator.startswith('aten::_slow_conv2d')


def operator_profile(models, optimizers, batches, top=25):
    """Self CPU ms per step of each operator in both steps (torch's profiler over
    one pass of the batches after a warm-up pass), sorted by what the branch adds.

    The profiler sees torch's operators only: Python and mmcv's extension calls
    (its CPU RoIAlign and NMS) are in the CPU time of the step measured without
    it, printed beside the profiled totals."""
    from torch.profiler import ProfilerActivity, profile
    warm_up(models, optimizers, batches)
    per_step, step_ms = {}, {}
    for name in models:
        step_ms[name] = 1000 * sum(
            train_step(models[name], optimizers[name], batch)[1]
            for batch in batches) / len(batches)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for batch in batches:
                train_step(models[name], optimizers[name], batch)
        per_step[name] = {
            event.key: event.self_cpu_time_total / 1000 / len(batches)
            for event in prof.key_averages()
        }
    with_ms, without_ms = per_step['with_exemplar'], per_step['without_exemplar']
    added = {key: with_ms.get(key, 0.0) - without_ms.get(key, 0.0)
             for key in set(with_ms) | set(without_ms)}
    convolution = [key for key in added if is_convolution(key)]
    totals = {
        'step_cpu_ms_without_exemplar': step_ms['without_exemplar'],
        'step_cpu_ms_with_exemplar': step_ms['with_exemplar'],
        'profiled_ms_per_step_without_exemplar': sum(without_ms.values()),
        'profiled_ms_per_step_with_exemplar': sum(with_ms.values()),
        'added_ms_per_step': sum(added.values()),
        'added_convolution_ms_per_step': sum(added[k] for k in convolution),
    }
    print(f'{"operator (self CPU ms per step)":48s} {"with":>8s} {"without":>8s} '
          f'{"added":>8s}')
    for key in sorted(added, key=added.get, reverse=True)[:top]:
        print(f'{key[:48]:48s} {with_ms.get(key, 0.0):8.2f} '
              f'{without_ms.get(key, 0.0):8.2f} {added[key]:8.2f}')
    for key, value in totals.items():
        print(f'{key:48s} {value:8.2f}')
    print(json.dumps(totals))


def valid_taps(size: int, out_size: int, kernel: int, stride: int, padding: int,
               dilation: int) -> int:
    """Kernel taps that land inside the input, summed over the output positions
    of one spatial dimension (the padded taps are no work for the convolution
    library: it skips them)."""
    return sum(sum(1 for t in range(kernel)
                   if 0 <= o * stride - padding + t * dilation < size)
               for o in range(out_size))


def conv_macs(model, optimizer, batches):
    """Multiply-accumulates per training step of every ``nn.Conv2d`` call, forward
    and backward (the weight gradient of each trainable convolution, the input
    gradient where the input needs one), counting only the taps inside the input;
    the mean over ``batches``."""
    counts = {'forward': 0, 'weight_grad': 0, 'input_grad': 0}

    def count(module, inputs, output):
        x = inputs[0]
        n, c_in, h, w = x.shape
        _, c_out, h_out, w_out = output.shape
        taps = (valid_taps(h, h_out, module.kernel_size[0], module.stride[0],
                           module.padding[0], module.dilation[0]) *
                valid_taps(w, w_out, module.kernel_size[1], module.stride[1],
                           module.padding[1], module.dilation[1]))
        macs = n * c_out * c_in // module.groups * taps
        counts['forward'] += macs
        counts['weight_grad'] += macs if module.weight.requires_grad else 0
        counts['input_grad'] += macs if x.requires_grad else 0

    handles = [m.register_forward_hook(count) for m in model.modules()
               if isinstance(m, torch.nn.Conv2d)]
    try:
        for batch in batches:
            train_step(model, optimizer, batch)
    finally:
        for handle in handles:
            handle.remove()
    return {key: value / len(batches) for key, value in counts.items()}


def convolution_rate(models, optimizers, batches):
    """Convolution work of both steps (:func:`conv_macs`) against the CPU time
    the profiler gives the convolutions (forward and backward), and the rate of
    each: the step without the branch, and what the branch adds."""
    from torch.profiler import ProfilerActivity, profile
    warm_up(models, optimizers, batches)
    macs, conv_ms = {}, {}
    for name in models:
        macs[name] = sum(conv_macs(models[name], optimizers[name],
                                   batches).values())
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for batch in batches:
                train_step(models[name], optimizers[name], batch)
        conv_ms[name] = sum(
            event.self_cpu_time_total for event in prof.key_averages()
            if is_convolution(event.key)) / 1000 / len(batches)
    plain, branch = 'without_exemplar', 'with_exemplar'
    added_macs = macs[branch] - macs[plain]
    added_ms = conv_ms[branch] - conv_ms[plain]
    rows = {
        'conv_gmac_per_step_without_exemplar': macs[plain] / 1e9,
        'conv_gmac_per_step_with_exemplar': macs[branch] / 1e9,
        'conv_gmac_added_by_branch': added_macs / 1e9,
        'conv_work_added_fraction': added_macs / macs[plain],
        'conv_ms_per_step_without_exemplar': conv_ms[plain],
        'conv_ms_added_by_branch': added_ms,
        'conv_gmac_per_s_without_exemplar': macs[plain] / 1e6 / conv_ms[plain],
        'conv_gmac_per_s_of_branch': added_macs / 1e6 / added_ms,
        'branch_conv_ms_at_plain_rate': added_macs / macs[plain] * conv_ms[plain],
    }
    for key, value in rows.items():
        print(f'{key:42s} {value:9.3f}')
    print(json.dumps(rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=osp.join(REPO, 'configs/ssl_r18c16-c4_6e_synthps.py'))
    parser.add_argument('--data-root', default=osp.join(REPO, 'data/synthps'))
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed passes over the batches (after a warm-up)')
    parser.add_argument('--images', type=int, default=40)
    parser.add_argument('--breakdown', action='store_true',
                        help='CPU time of each part of the exemplar branch')
    parser.add_argument('--profile', action='store_true',
                        help='self CPU time of each operator in both steps')
    parser.add_argument('--macs', action='store_true',
                        help='convolution work of both steps and its CPU rate')
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

    rows = {'load_avg_1min_start': os.getloadavg()[0]}
    with_branch = build(cfg)
    without_branch = build(cfg, exemplar_branch=None, loss_scale=None)
    models = dict(with_exemplar=with_branch, without_exemplar=without_branch)
    optimizers = {}
    for name, model in models.items():
        model.memory.resize(train_set.num_instances)
        model.memory.fill(torch.arange(train_set.num_instances),
                          torch.randn(train_set.num_instances, 256),
                          torch.randn(train_set.num_instances, 256))
        model.train()
        optimizers[name] = torch.optim.SGD(model.parameters(), lr=1e-4,
                                           momentum=0.9)
    if args.breakdown:
        breakdown(models, optimizers, batches, args.repeats)
        return
    if args.profile:
        operator_profile(models, optimizers, batches)
        return
    if args.macs:
        convolution_rate(models, optimizers, batches)
        return
    wall, cpu = interleaved_steps(models, optimizers, batches, args.repeats)
    rows['train_step_s_without_exemplar'] = wall['without_exemplar']
    rows['train_step_s_with_exemplar'] = wall['with_exemplar']
    rows['exemplar_step_ratio'] = (wall['with_exemplar'] /
                                   wall['without_exemplar'])
    rows['train_step_cpu_s_without_exemplar'] = cpu['without_exemplar']
    rows['train_step_cpu_s_with_exemplar'] = cpu['with_exemplar']
    rows['exemplar_step_ratio_cpu'] = (cpu['with_exemplar'] /
                                       cpu['without_exemplar'])

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
    rows['load_avg_1min_end'] = os.getloadavg()[0]

    print(f'{"measure":36s} {"value":>10s}')
    for key, value in rows.items():
        print(f'{key:36s} {value:10.3f}')
    exemplar_met = max(rows['exemplar_step_ratio'],
                       rows['exemplar_step_ratio_cpu']) <= 1.5
    print(f'exemplar target <= 1.5x (wall and CPU): '
          f'{"met" if exemplar_met else "MISSED"}; re-id target <= 1.05x: '
          f'{"met" if rows["reid_inference_ratio"] <= 1.05 else "MISSED"}')
    print(json.dumps(rows))


if __name__ == '__main__':
    main()
