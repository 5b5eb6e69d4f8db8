"""The prepared GPU check (issue 13): build mmcv's CUDA ops, then run the checks.

On a machine with one CUDA GPU and nothing else of mmssl's stack (the project's GPU
machine has CUDA torch, nvcc and Python 3.12, but no mmcv, mmengine or mmdet, and no
network), in one call:

1. ``mmcv``: installs the wheels carried in ``--wheels`` (``.whl/`` by default,
   filled by ``benchmarks/gpu_check_wheels.sh``) into a private site folder, and
   builds mmcv 2.1.0's CUDA ops from the carried source archive
   (``TORCH_CUDA_ARCH_LIST=9.0``, ``MAX_JOBS=16``), timing the build; a wheel built
   once is copied to ``--save-wheel`` (``$OUT`` by default) when it fits what comes
   back (16 MiB), so that a later call can carry it and skip the build;
2. ``r50``: two training iterations of the R-50 paper model (``configs/ssl_r50-c4_26e_prw.py``)
   on a 1500 x 900 pair, ImageNet weights when torch's cache holds them, else random
   init; seconds per iteration and peak GPU memory;
3. ``synthps``: one epoch of ``configs/ssl_r18c16-c4_6e_synthps.py`` on CUDA (200 iterations,
   with the memory-bank fill and the pseudo labels); iterations per second and peak
   GPU memory;
4. ``dist``: ``tools/dist_train.sh configs/ssl_r18c16-c4_6e_synthps.py 1`` (one NCCL process) for
   a few iterations;
5. ``labels``: ``generate_pseudo_labels`` at 1,000,000 rows, exact search, with
   faiss-gpu when it imports; otherwise it says so and uses the torch exact path
   (which ``mmssl.labels`` runs on the CPU).

Each check runs in its own process with its own time limit inside ``--budget``
seconds (the build has ``--build-budget``); a check that fails or runs out of time
is reported as such with what it printed so far, and the others still run. The last
line of the output is one JSON object with every figure.

``--cpu-smoke`` runs the same checks on the CPU at toy sizes (no install, no build),
to try the script where there is no GPU.

Usage::

    python benchmarks/gpu_check.py                # on the GPU machine
    python benchmarks/gpu_check.py --cpu-smoke    # anywhere
"""
import argparse
import glob
import json
import os
import os.path as osp
import runpy
import shutil
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CHECKS = ('r50', 'synthps', 'dist', 'labels')
#: Seconds each check may take at most (the budget may leave it less).
CHECK_LIMITS = dict(r50=90, synthps=150, dist=120, labels=240)
PREFIX = 'GPU_CHECK_RESULT '
MMCV_VERSION = '2.1.0'
RETURNED_FILE_LIMIT = 16 * 1024 ** 2
MIB = 1024 ** 2


# ----------------------------------------------------------------- set-up
def child_env(site: str) -> dict:
    """The environment of every child: the private site folder and the repo first."""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (site, REPO, env.get('PYTHONPATH', '')) if p)
    return env


def imports(module: str, env: dict) -> bool:
    """Whether ``module`` imports in a fresh interpreter with ``env``."""
    return subprocess.run([sys.executable, '-c', f'import {module}'], env=env,
                          capture_output=True).returncode == 0


def pip_target(paths, site: str, env: dict) -> None:
    """Install wheels without dependencies or network into ``site``."""
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-index',
                    '--no-deps', '--no-compile', '--no-cache-dir', '--upgrade',
                    '--target', site] + list(paths), env=env, check=True)


def install_stack(wheels: str, site: str, env: dict) -> dict:
    """Install every carried wheel but mmcv's (mmengine, mmdet, faiss-cpu, ...)
    into the private site folder, ahead of the machine's own packages."""
    carried = [w for w in sorted(glob.glob(osp.join(wheels, '*.whl')))
               if not osp.basename(w).startswith('mmcv-')]
    try:
        if carried:
            pip_target(carried, site, env)
    except subprocess.CalledProcessError as err:
        return dict(status='failed', error=str(err))
    return dict(status='ok', installed=[osp.basename(w) for w in carried])


def build_mmcv(wheels: str, site: str, env: dict, budget: float,
               save_to: str) -> dict:
    """mmcv 2.1.0 with its CUDA ops: a carried wheel, or a timed source build."""
    if imports('mmcv.ops', env):
        return dict(status='present')
    prebuilt = sorted(glob.glob(osp.join(wheels, f'mmcv-{MMCV_VERSION}-*.whl')))
    if prebuilt:
        pip_target(prebuilt[-1:], site, env)
        return dict(status='carried wheel', wheel=osp.basename(prebuilt[-1]))
    archive = osp.join(wheels, f'mmcv-{MMCV_VERSION}.tar.gz')
    if not osp.exists(archive):
        return dict(status='failed', error=f'no {archive}: run '
                    'benchmarks/gpu_check_wheels.sh where pip works')
    out_dir = tempfile.mkdtemp(prefix='mmcv_wheel_')
    build_env = dict(env, MMCV_WITH_OPS='1', FORCE_CUDA='1',
                     TORCH_CUDA_ARCH_LIST=os.environ.get('TORCH_CUDA_ARCH_LIST',
                                                         '9.0'),
                     MAX_JOBS=os.environ.get('MAX_JOBS', '16'))
    nvcc = shutil.which('nvcc')
    if 'CUDA_HOME' not in build_env and nvcc:
        build_env['CUDA_HOME'] = osp.dirname(osp.dirname(osp.realpath(nvcc)))
    tick = time.perf_counter()
    source, attempts = archive, []
    while True:
        left = budget - (time.perf_counter() - tick)
        try:
            done = subprocess.run(
                [sys.executable, '-m', 'pip', 'wheel', '--no-index', '--no-deps',
                 '--no-build-isolation', '-w', out_dir, source], env=build_env,
                capture_output=True, text=True, timeout=max(left, 1))
        except subprocess.TimeoutExpired:
            return dict(status='timeout', build_seconds=time.perf_counter() - tick,
                        attempts=attempts)
        log = done.stdout + done.stderr
        attempts.append('c++17' if source == archive else 'c++20')
        if done.returncode == 0 or source != archive or 'c++20' not in log.lower():
            break
        # mmcv 2.1.0 asks for C++17; a torch whose headers need C++20 fails so:
        # once more from the source with C++20
        source = cxx20_source(archive)
    seconds = time.perf_counter() - tick
    built = glob.glob(osp.join(out_dir, 'mmcv-*.whl'))
    if done.returncode or not built:
        return dict(status='failed', build_seconds=seconds, attempts=attempts,
                    log_tail=log[-3000:])
    try:
        pip_target(built, site, env)
    except subprocess.CalledProcessError as err:
        return dict(status='failed', build_seconds=seconds, error=str(err))
    result = dict(status='built', build_seconds=seconds, attempts=attempts,
                  wheel_mib=osp.getsize(built[0]) / MIB)
    if save_to and osp.getsize(built[0]) <= RETURNED_FILE_LIMIT:
        os.makedirs(save_to, exist_ok=True)
        shutil.copy(built[0], save_to)
        result['saved_to'] = osp.join(save_to, osp.basename(built[0]))
    return result


def cxx20_source(archive: str) -> str:
    """The mmcv source unpacked, its ``-std=c++17`` flags raised to C++20."""
    import tarfile  # noqa: PLC0415
    folder = tempfile.mkdtemp(prefix='mmcv_src_')
    with tarfile.open(archive) as tar:
        tar.extractall(folder)
    (root, ) = glob.glob(osp.join(folder, 'mmcv-*'))
    setup = osp.join(root, 'setup.py')
    with open(setup) as f:
        text = f.read()
    with open(setup, 'w') as f:
        f.write(text.replace('c++17', 'c++20'))
    return root


# ----------------------------------------------------------------- checks
def report(**figures) -> None:
    """One result line of a check (the parent keeps the last)."""
    print(PREFIX + json.dumps(figures), flush=True)


def device_and_reset(cpu_smoke: bool):
    import torch  # noqa: PLC0415
    if cpu_smoke:
        return 'cpu'
    if not torch.cuda.is_available():
        raise RuntimeError('no CUDA device (use --cpu-smoke to try the checks on '
                           'the CPU)')
    torch.cuda.reset_peak_memory_stats()
    return 'cuda'


def peak_mib(device: str) -> float:
    import torch  # noqa: PLC0415
    return torch.cuda.max_memory_allocated() / MIB if device == 'cuda' else 0.0


def check_r50(cpu_smoke: bool) -> None:
    """Two training iterations of the paper model on a 1500 x 900 pair."""
    import torch  # noqa: PLC0415
    from mmdet.registry import MODELS  # noqa: PLC0415
    from mmengine.config import Config  # noqa: PLC0415
    from mmengine.registry import init_default_scope  # noqa: PLC0415

    import mmssl  # noqa: F401,PLC0415
    from mmssl.testing.person_batches import person_batch  # noqa: PLC0415
    device = device_and_reset(cpu_smoke)
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ssl_r50-c4_26e_prw.py'))
    height, width = (900, 1500) if not cpu_smoke else (160, 224)
    if cpu_smoke:  # a few RoIs: res5 on the paper's 2 x 128 takes a minute on CPUs
        for stage in cfg.model.train_cfg.rcnn:
            stage.sampler.num = 8
        cfg.model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=20)
    model = MODELS.build(cfg.model)
    cache = osp.join(torch.hub.get_dir(), 'checkpoints')
    weights = bool(glob.glob(osp.join(cache, 'resnet50-*.pth')))
    if weights:
        model.init_weights()
    model = model.to(device).train()
    persons = [[[100., 120., 180., 400.], [600., 200., 700., 520.],
                [1100., 300., 1160., 450.]],
               [[200., 100., 320., 460.], [900., 150., 960., 320.]]]
    if cpu_smoke:
        persons = [[[20., 16., 68., 144.]], [[140., 10., 188., 138.]]]
    rows = sum(len(p) for p in persons)
    model.memory.resize(rows)
    model.memory.fill(torch.arange(rows, device=device),
                      torch.randn(rows, 256, device=device),
                      torch.randn(rows, 256, device=device))
    model.memory.mark_initialised()
    model.pseudo_labels.set(torch.arange(rows), torch.arange(rows + 1),
                            torch.arange(rows), epoch=0, threshold=0.7)
    batch = person_batch(persons, height=height, width=width)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    seconds = []
    for _ in range(2):
        tick = time.perf_counter()
        losses = model(**model.data_preprocessor(batch, True), mode='loss')
        loss, _ = model.parse_losses(losses)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device == 'cuda':
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - tick)
    report(image=[width, height], persons=rows, imagenet_weights=weights,
           first_iteration_s=seconds[0], second_iteration_s=seconds[1],
           loss=float(loss), peak_gpu_mib=peak_mib(device))


def check_synthps(cpu_smoke: bool) -> None:
    """One epoch of the SynthPS main job, timed per iteration."""
    import torch  # noqa: PLC0415
    from mmengine.hooks import Hook  # noqa: PLC0415
    from mmengine.runner import Runner  # noqa: PLC0415
    device = device_and_reset(cpu_smoke)
    work_dir = tempfile.mkdtemp(prefix='gpu_check_synthps_')
    cfg = synthps_config(cpu_smoke, work_dir)
    cfg.train_cfg.max_epochs = 1

    class IterationTimes(Hook):
        """Wall time of every training iteration (device synchronised)."""
        times = []

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if device == 'cuda':
                torch.cuda.synchronize()
            self.tick = time.perf_counter()

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if device == 'cuda':
                torch.cuda.synchronize()
            self.times.append(time.perf_counter() - self.tick)

    tick = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    timer = IterationTimes()
    runner.register_hook(timer, priority='LOWEST')
    runner.train()
    steady = timer.times[min(10, len(timer.times) // 2):]
    report(iterations=len(timer.times),
           iterations_per_s=len(steady) / max(sum(steady), 1e-9),
           peak_gpu_mib=peak_mib(device), wall_s=time.perf_counter() - tick)


def synthps_config(cpu_smoke: bool, work_dir: str):
    """``configs/ssl_r18c16-c4_6e_synthps.py`` (or, for the smoke test, its tiny version)."""
    from mmengine.config import Config  # noqa: PLC0415
    if cpu_smoke:
        from mmssl.testing.tiny_runs import (render_tiny_synthps,  # noqa: PLC0415
                                             tiny_ssl_config)
        root = render_tiny_synthps(osp.join(work_dir, 'synthps'))
        cfg = tiny_ssl_config(root, work_dir, max_epochs=1)
    else:
        cfg = Config.fromfile(osp.join(REPO, 'configs', 'ssl_r18c16-c4_6e_synthps.py'))
        cfg.work_dir = work_dir
    cfg.train_cfg.val_interval = 100  # no evaluation
    return cfg


def check_dist(cpu_smoke: bool) -> None:
    """``tools/dist_train.sh CONFIG 1`` for a few iterations."""
    work_dir = tempfile.mkdtemp(prefix='gpu_check_dist_')
    cfg = synthps_config(cpu_smoke, work_dir)
    cfg.train_cfg.max_epochs = 1
    cfg.train_dataloader.dataset.indices = 8  # 4 iterations of 2 images
    if cpu_smoke:
        cfg.env_cfg.dist_cfg.backend = 'gloo'
    config = osp.join(work_dir, 'config.py')
    cfg.dump(config)
    env = dict(os.environ, PYTHON=sys.executable,
               PORT=str(29500 + os.getpid() % 1000))
    tick = time.perf_counter()
    done = subprocess.run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config,
                           '1', '--work-dir', work_dir], env=env,
                          capture_output=True, text=True)
    log = done.stdout + done.stderr
    report(returncode=done.returncode, backend=cfg.env_cfg.dist_cfg.backend,
           iterations_logged=log.count('Epoch(train)'),
           checkpoint=bool(glob.glob(osp.join(work_dir, '*.pth'))),
           wall_s=time.perf_counter() - tick,
           log_tail=log[-1500:] if done.returncode else '')


def check_labels(cpu_smoke: bool, rows: int) -> None:
    """generate_pseudo_labels at ``rows`` rows, exact, faiss-gpu or torch."""
    # mmssl.labels alone (no mmdet, no mmcv: this check runs without them too)
    bench = runpy.run_path(osp.join(REPO, 'benchmarks', 'bench_pseudo_labels.py'))
    labels = bench['import_labels']()
    from mmssl.labels.neighbour_search import (faiss_gpu_available,  # noqa: PLC0415
                                               import_faiss)
    faiss = import_faiss()
    if cpu_smoke:
        backend, note = 'torch', '--cpu-smoke: the torch exact path on the CPU'
    elif faiss_gpu_available():
        backend, note = 'faiss-gpu', f'faiss {faiss.__version__} with GPU support'
    else:
        backend = 'torch'
        note = ('faiss-gpu is not installed (faiss-gpu-cu12 needs the CUDA 12 '
                'runtime and cuBLAS beside the CUDA 13 torch, more than a call can '
                'carry): the torch exact path, which mmssl.labels runs on the CPU'
                if faiss is None or not hasattr(faiss, 'StandardGpuResources')
                else 'faiss has GPU support but sees no GPU: the torch exact path')
    tick = time.perf_counter()
    bank = labels.make_clustered_bank(rows, dim=256, seed=rows)
    steps = dict(data=time.perf_counter() - tick)

    def on_step(name, seconds):
        steps[name] = seconds
        report(rows=rows, backend=backend, note=note, finished=False, **steps)

    result = labels.generate_pseudo_labels(bank.features, bank.image_ids, epoch=0,
                                           search='exact', backend=backend,
                                           step_callback=on_step)
    report(rows=rows, backend=backend, note=note, finished=True,
           total_s=result.timings['total'], clusters=result.num_clusters,
           multilabel_pairs=result.num_multilabel_pairs, **steps)


# ----------------------------------------------------------------- driver
def run_check(name: str, args, env: dict, limit: float) -> dict:
    """Run one check in its own process; its last result line, or what failed."""
    command = [sys.executable, osp.abspath(__file__), '--check', name,
               '--label-rows', str(args.label_rows)]
    if args.cpu_smoke:
        command.append('--cpu-smoke')
    tick = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=max(limit, 1), cwd=REPO)
        output, status = done.stdout + done.stderr, ('ok' if done.returncode == 0
                                                      else 'failed')
    except subprocess.TimeoutExpired as err:
        output = ((err.stdout or b'').decode(errors='replace') +
                  (err.stderr or b'').decode(errors='replace'))
        status = 'timeout'
    lines = [line[len(PREFIX):] for line in output.splitlines()
             if line.startswith(PREFIX)]
    result = json.loads(lines[-1]) if lines else {}
    result.update(status=status, seconds=time.perf_counter() - tick)
    if status != 'ok':
        result['output_tail'] = output[-2000:]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cpu-smoke', action='store_true',
                        help='the checks on the CPU at toy sizes, no build')
    parser.add_argument('--checks', nargs='+', default=list(CHECKS),
                        choices=CHECKS)
    parser.add_argument('--budget', type=float, default=300.0,
                        help='seconds for the checks after the build')
    parser.add_argument('--build-budget', type=float, default=480.0,
                        help='seconds the mmcv build may take')
    parser.add_argument('--total', type=float, default=570.0,
                        help='seconds for everything (a device call has 600): the '
                        'checks get what the build leaves of it, at most --budget')
    parser.add_argument('--wheels', default=osp.join(REPO, '.whl'))
    parser.add_argument('--save-wheel', default=os.environ.get('OUT', ''),
                        help='folder for the built mmcv wheel ($OUT by default)')
    parser.add_argument('--label-rows', type=int, default=None)
    parser.add_argument('--check', choices=CHECKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.label_rows is None:
        args.label_rows = 20_000 if args.cpu_smoke else 1_000_000
    if args.check:
        check = dict(r50=check_r50, synthps=check_synthps, dist=check_dist)
        if args.check == 'labels':
            check_labels(args.cpu_smoke, args.label_rows)
        else:
            check[args.check](args.cpu_smoke)
        return

    start = time.perf_counter()
    results = dict(mode='cpu-smoke' if args.cpu_smoke else 'gpu')
    site = osp.join(tempfile.gettempdir(), 'mmssl_gpu_check_site')
    os.makedirs(site, exist_ok=True)
    env = child_env(site)
    if not args.cpu_smoke:
        results['stack'] = install_stack(args.wheels, site, env)
        build_budget = min(args.build_budget,
                           args.total - (time.perf_counter() - start))
        results['mmcv'] = build_mmcv(args.wheels, site, env, build_budget,
                                     args.save_wheel)
        print('mmcv:', json.dumps(results['mmcv'])[:400], flush=True)
    deadline = min(time.perf_counter() + args.budget, start + args.total)
    for name in args.checks:
        left = deadline - time.perf_counter()
        if left < 10:
            results[name] = dict(status='skipped', reason='budget spent')
            continue
        results[name] = run_check(name, args, env, min(CHECK_LIMITS[name], left))
        print(f'{name:>8s}: ' + json.dumps(
            {k: v for k, v in results[name].items() if k != 'output_tail'}),
            flush=True)
    print(json.dumps(results))


if __name__ == '__main__':
    main()
