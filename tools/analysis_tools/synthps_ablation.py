"""The paper's Tab. 1 ablation on SynthPS, over several training seeds and two renders.

    python tools/analysis_tools/synthps_ablation.py [--rows full baseline ...] \
        [--seeds 0 1 2] [--work-dir work_dirs/synthps_ablation] [--parallel 1]

For every row (a config) and training seed (MMEngine's ``randomness.seed``) it trains
the config with ``tools/train.py`` (skipped when the run reached its last epoch,
resumed with ``--resume`` when it was interrupted),
reads the final evaluation on the config's own test split (render seed 0) and the
last learning diagnostics from its log, evaluates the last checkpoint on the test split
of a second render (``--second-render-seed``, rendered on first use) with
``tools/test.py``, and prints a table of mean +- std over the seeds, then one JSON line
of every figure. docs/benchmarks.md records its output.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

#: Row name -> config (the paper's Tab. 1 rows, SSL from random weights, and SSL
#: with the multi-labels made once per epoch).
ROWS = {
    'baseline': 'configs/ablations/synthps/baseline.py',
    'dml': 'configs/ablations/synthps/dml.py',
    'sl': 'configs/ablations/synthps/sl.py',
    'full': 'configs/ssl_r18c16-c4_6e_synthps.py',
    'from_scratch': 'configs/ablations/synthps/from_scratch.py',
    'per_epoch': 'configs/ablations/synthps/per_epoch_labels.py',
}
SEARCH_KEYS = ('search/mAP', 'search/top1')
DIAGNOSTIC_KEYS = ('nn_precision_combined', 'nn_precision_colour',
                   'cluster_precision', 'largest_cluster_share',
                   'multilabel_precision')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', nargs='+', default=list(ROWS),
                        choices=list(ROWS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs',
                                                       'synthps_ablation'))
    parser.add_argument('--second-render-seed', type=int, default=1)
    parser.add_argument('--second-render-root',
                        default=osp.join(REPO, 'data', 'synthps_seed1'))
    parser.add_argument('--parallel', type=int, default=1,
                        help='trainings at a time (2 cores: 1 or 2)')
    return parser.parse_args(argv)


def run(cmd: List[str], log_path: str) -> None:
    """Run a command, its output into ``log_path``; raise on failure."""
    with open(log_path, 'a') as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode:
        raise RuntimeError(f'{" ".join(cmd)} failed ({proc.returncode}); see '
                           f'{log_path}')


def last_metrics(json_paths: Sequence[str]) -> Dict[str, float]:
    """The last record holding ``search/mAP`` among MMEngine JSON logs."""
    from mmssl.visualization import read_metric_records
    found = {}
    for path in sorted(json_paths):
        for record in read_metric_records(path):
            if 'search/mAP' in record:
                found = record
    return found


def training_state(work_dir: str, config: str) -> str:
    """``'finished'``, ``'interrupted'`` (resumable) or ``'new'`` for a run directory.

    A run is finished when its last checkpoint is the one of the config's last epoch.
    """
    from mmengine.config import Config
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return 'new'
    with open(pointer) as handle:
        checkpoint = handle.read().strip()
    max_epochs = Config.fromfile(config).train_cfg.max_epochs
    if osp.basename(checkpoint) == f'epoch_{max_epochs}.pth':
        return 'finished'
    return 'interrupted'


def train_and_test(row: str, seed: int, args: argparse.Namespace) -> dict:
    """One (row, seed) run; returns its figures."""
    from mmssl.visualization import read_pseudo_label_stats
    work_dir = osp.join(args.work_dir, row, f'seed{seed}')
    os.makedirs(work_dir, exist_ok=True)
    config = osp.join(REPO, ROWS[row])
    python = sys.executable
    started = time.perf_counter()
    state = training_state(work_dir, config)
    if state != 'finished':
        resume = ['--resume'] if state == 'interrupted' else []
        run([python, 'tools/train.py', config, '--work-dir', work_dir] + resume +
            ['--cfg-options', f'randomness.seed={seed}'],
            osp.join(work_dir, 'ablation_train.out'))
    train_seconds = time.perf_counter() - started
    with open(osp.join(work_dir, 'last_checkpoint')) as handle:
        checkpoint = handle.read().strip()
    logs = sorted(glob.glob(osp.join(work_dir, '2*', '2*.log')))
    own = last_metrics(glob.glob(osp.join(work_dir, '2*', 'vis_data',
                                          'scalars.json')))
    stats = read_pseudo_label_stats(logs[-1]) if logs else []
    diagnostics = {k: stats[-1].get(k) for k in DIAGNOSTIC_KEYS} if stats else {}
    second_dir = osp.join(work_dir, f'test_render{args.second_render_seed}')
    second = last_metrics(glob.glob(osp.join(second_dir, '2*', '2*.json')))
    if not second:
        root = args.second_render_root.rstrip('/') + '/'
        options = [f'test_dataloader.dataset.data_root={root}',
                   f'test_dataloader.dataset.render_cfg.seed='
                   f'{args.second_render_seed}']
        run([python, 'tools/test.py', config, checkpoint, '--work-dir',
             second_dir, '--cfg-options'] + options,
            osp.join(work_dir, 'ablation_test.out'))
        second = last_metrics(glob.glob(osp.join(second_dir, '2*', '2*.json')))
    figures = dict(row=row, seed=seed, train_seconds=round(train_seconds, 1))
    for key in SEARCH_KEYS + ('search/det_ap', ):
        figures[key.split('/')[-1]] = own.get(key)
        figures[f'render{args.second_render_seed}_' + key.split('/')[-1]] = \
            second.get(key)
    figures.update(diagnostics)
    return figures


def summarise(results: List[dict], second: int) -> dict:
    """mean and std over the seeds of every figure, per row."""
    table = {}
    keys = ['mAP', 'top1', 'det_ap', f'render{second}_mAP', f'render{second}_top1',
            f'render{second}_det_ap'] + list(DIAGNOSTIC_KEYS)
    for row in dict.fromkeys(r['row'] for r in results):
        runs = [r for r in results if r['row'] == row]
        table[row] = {}
        for key in keys:
            values = np.array([r[key] for r in runs
                               if isinstance(r.get(key), (int, float))], float)
            if values.size:
                table[row][key] = (float(values.mean()), float(values.std()),
                                   int(values.size))
    return table


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the matrix (or read finished runs), print the table and the JSON line."""
    args = parse_args(argv)
    jobs = [(row, seed) for row in args.rows for seed in args.seeds]
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        results = list(pool.map(lambda job: train_and_test(*job, args), jobs))
    table = summarise(results, args.second_render_seed)
    second = args.second_render_seed
    columns = [('mAP', 'mAP', 100), ('top1', 'top-1', 100), ('det_ap', 'det AP', 1),
               (f'render{second}_mAP', f'mAP r{second}', 100),
               (f'render{second}_top1', f'top-1 r{second}', 100),
               (f'render{second}_det_ap', f'det AP r{second}', 1),
               ('nn_precision_combined', 'NN M', 1),
               ('nn_precision_colour', 'colour', 1),
               ('cluster_precision', 'clu P', 1),
               ('largest_cluster_share', 'largest', 1),
               ('multilabel_precision', 'ML P', 1)]
    print(f'{"row":<13}' + ''.join(f'{title:>16}' for _, title, _ in columns))
    for row, entry in table.items():
        cells = []
        for key, _, scale in columns:
            if key in entry:
                mean, std, _ = entry[key]
                digits = 1 if scale == 100 else 3
                cells.append(f'{scale * mean:.{digits}f} +- {scale * std:.{digits}f}')
            else:
                cells.append('-')
        print(f'{row:<13}' + ''.join(f'{c:>16}' for c in cells))
    out = dict(runs=results, table=table)
    print(json.dumps(out))
    return out


if __name__ == '__main__':
    main()
