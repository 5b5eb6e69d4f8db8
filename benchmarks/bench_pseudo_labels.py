"""Benchmark: pseudo-label generation at scale (``mmssl.labels``, issue 5 items 1, 6).

Runs :func:`mmssl.labels.generate_pseudo_labels` (kNN, dynamic multi-labels of Eq.
7-10, sparse k-reciprocal Jaccard distance, self-paced DBSCAN) on clustered synthetic
features (d=256, N/4 identities with several noisy samples each, a cross-scale-like
low-resolution drift; see :mod:`mmssl.labels.synthetic_features`) at

* N = 5,000 (agreement check),
* N = 18,048 (PRW's train boxes),
* N = 55,272 (CUHK-SYSU's train boxes),
* N = 1,000,000 (approximate HNSW index refined by a neighbours-of-neighbours join;
  its kNN recall and the multi-label positives it finds are measured against exact
  search on a sample).

Each size runs in its own subprocess, so that its peak memory is its own: the table
shows seconds and peak RSS per step (the peak is reset at each step start through
``/proc/self/clear_refs`` where the kernel allows it) and for the whole process
(imports and the synthetic features included). CPU-seconds and the load average
are printed too: on a shared machine, wall time grows with other processes' load. Where
the dense reference fits (N <= 18,048 by default), it runs in another subprocess and
the cluster labels (adjusted Rand index, and identity) and the multi-labels (identity)
are compared.

Targets (2 cores): N=18,048 <= 9 s and <= 1.1 GiB; N=55,272 <= 60 s and <= 3 GiB;
N=1,000,000 <= 30 min and <= 16 GiB; ARI 1.0 at 5,000 and 18,048.

Usage::

    python benchmarks/bench_pseudo_labels.py                 # every size
    python benchmarks/bench_pseudo_labels.py --sizes 18048 55272
    python benchmarks/bench_pseudo_labels.py --no-dense

The last line of the output is one JSON object with all figures.
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
import types

DEFAULT_SIZES = (5000, 18048, 55272, 1000000)
BOXES_PER_IMAGE = {18048: 3.2, 55272: 4.9}  # PRW, CUHK-SYSU
TARGETS = {  # N: (seconds, GiB)
    18048: (9.0, 1.1),
    55272: (60.0, 3.0),
    1000000: (1800.0, 16.0),
}
ARI_TARGET_SIZES = (5000, 18048)
GIB = 1024 ** 3
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def import_labels():
    """Import ``mmssl.labels`` without running ``mmssl/__init__`` (which imports
    mmdet, ~150 MB that the labels code does not use), so that peak memory is the
    labels code's own."""
    if 'mmssl' not in sys.modules:
        package = types.ModuleType('mmssl')
        package.__path__ = [osp.join(REPO, 'mmssl')]
        sys.modules['mmssl'] = package
    import mmssl.labels as labels  # noqa: PLC0415
    # Import the lazily imported libraries now (a training process has them
    # loaded), so that step times do not include import times.
    import sklearn.cluster  # noqa: F401,PLC0415
    import torch  # noqa: F401,PLC0415
    return labels


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter of this process (VmHWM)."""
    try:
        with open('/proc/self/clear_refs', 'w') as handle:
            handle.write('5')
        return True
    except OSError:
        return False


def peak_rss() -> int:
    """Peak RSS in bytes since the last reset (VmHWM), else since start."""
    try:
        with open('/proc/self/status') as handle:
            for line in handle:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_bank(labels, num):
    return labels.make_clustered_bank(
        num, dim=256, boxes_per_image=BOXES_PER_IMAGE.get(num, 4.0), seed=num)


def run_sparse(num: int, out_dir: str) -> dict:
    """Child: the sparse pipeline at one size."""
    import numpy as np  # noqa: PLC0415
    labels = import_labels()
    tick = time.perf_counter()
    bank = make_bank(labels, num)
    data_seconds = time.perf_counter() - tick
    steps = {}
    setup_peak = peak_rss()  # imports and the synthetic bank
    can_reset = reset_peak()

    def on_step(name, seconds):
        steps[name] = dict(seconds=seconds, peak_bytes=peak_rss())
        print(f'  [N={num:,}] {name}: {seconds:.1f} s, peak '
              f'{steps[name]["peak_bytes"] / GIB:.2f} GiB', file=sys.stderr,
              flush=True)
        reset_peak()

    cpu = time.process_time()
    result = labels.generate_pseudo_labels(
        bank.features, bank.image_ids, epoch=0,
        recall_sample=1000 if num > labels.pseudo_label_generator.APPROXIMATE_ABOVE
        else 0, step_callback=on_step)
    cpu = time.process_time() - cpu
    # clear_refs also resets ru_maxrss: the process peak is the largest of these
    peak = max([setup_peak, peak_rss()] + [s['peak_bytes'] for s in steps.values()])
    cluster_quality = labels.pairwise_precision_recall(result.cluster_labels,
                                                       bank.person_ids)
    multilabel_quality = labels.pairwise_precision_recall(result.multilabels,
                                                          bank.person_ids)
    multilabel_agreement = None
    if result.search != 'exact':
        multilabel_agreement = sampled_multilabel_agreement(labels, bank, result)
    np.savez(osp.join(out_dir, f'sparse_{num}.npz'),
             cluster_labels=result.cluster_labels,
             indptr=result.multilabel_indptr, indices=result.multilabel_indices)
    return dict(
        num=num, mode='sparse', search=result.search,
        total_seconds=result.timings['total'], cpu_seconds=cpu,
        peak_bytes=peak, setup_peak_bytes=setup_peak,
        per_step_peak_reset=can_reset, steps=steps,
        data_seconds=data_seconds, threshold=result.threshold,
        num_clusters=result.num_clusters, num_singletons=result.num_singletons,
        num_multilabel_pairs=result.num_multilabel_pairs,
        neighbour_recall=result.neighbour_recall,
        sampled_multilabels=multilabel_agreement,
        cluster_precision=cluster_quality.precision,
        cluster_recall=cluster_quality.recall,
        multilabel_precision=multilabel_quality.precision,
        multilabel_recall=multilabel_quality.recall)


def sampled_multilabel_agreement(labels, bank, result, sample_size=1000,
                                 seed=0) -> dict:
    """Multi-labels of an approximate run against exact ones on sampled rows.

    The exact candidates of the sampled rows (exact range search) go through the
    same exclusion walk; the walk of a row depends on that row's candidates only.
    """
    import numpy as np  # noqa: PLC0415
    import scipy.sparse as sp  # noqa: PLC0415
    num = len(bank.features)
    rows = np.sort(np.random.default_rng(seed).choice(num, sample_size,
                                                      replace=False))
    found = labels.range_search(bank.features, result.threshold,
                                bank.features[rows]).tocoo()
    candidates = sp.csr_matrix((found.data, (rows[found.row], found.col)),
                               shape=(num, num))
    exact = labels.exclusive_multilabels(candidates, bank.image_ids)[rows]
    approx = result.multilabels[rows]
    both = exact.multiply(approx).nnz - sample_size  # self pairs excluded
    return dict(rows=sample_size,
                recall=float(both / max(1, exact.nnz - sample_size)),
                precision=float(both / max(1, approx.nnz - sample_size)))


def run_dense(num: int, out_dir: str) -> dict:
    """Child: the dense reference at one size (``N x N`` arrays)."""
    import numpy as np  # noqa: PLC0415
    labels = import_labels()
    bank = make_bank(labels, num)
    dense = labels.dense_reference
    steps = {}
    setup_peak = peak_rss()
    reset_peak()
    start = tick = time.perf_counter()
    multilabels = dense.dense_multilabels(bank.features, bank.image_ids,
                                          labels.dynamic_threshold(0))
    steps['multilabels'] = dict(seconds=time.perf_counter() - tick,
                                peak_bytes=peak_rss())
    reset_peak()
    tick = time.perf_counter()
    distance = dense.dense_jaccard_distance(bank.features)
    steps['jaccard'] = dict(seconds=time.perf_counter() - tick,
                            peak_bytes=peak_rss())
    reset_peak()
    tick = time.perf_counter()
    cluster_labels, _ = dense.dense_self_paced_labels(distance)
    steps['dbscan'] = dict(seconds=time.perf_counter() - tick,
                           peak_bytes=peak_rss())
    total = time.perf_counter() - start
    rows, cols = np.nonzero(multilabels)
    indptr = np.zeros(num + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=num), out=indptr[1:])
    np.savez(osp.join(out_dir, f'dense_{num}.npz'), cluster_labels=cluster_labels,
             indptr=indptr, indices=cols.astype(np.int64))
    peak = max([setup_peak, peak_rss()] + [s['peak_bytes'] for s in steps.values()])
    return dict(num=num, mode='dense', total_seconds=total, peak_bytes=peak,
                steps=steps)


def spawn(mode: str, num: int, out_dir: str, timeout: float) -> dict:
    command = [sys.executable, osp.abspath(__file__), '--child', mode, str(num),
               out_dir]
    try:  # the child's stderr (progress, errors) goes straight to ours
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return dict(num=num, mode=mode, error=f'timed out after {timeout:.0f} s')
    lines = [line for line in done.stdout.splitlines() if line.startswith('{')]
    if done.returncode != 0 or not lines:
        return dict(num=num, mode=mode,
                    error=f'exit {done.returncode} (see the messages above)')
    return json.loads(lines[-1])


def compare(num: int, out_dir: str) -> dict:
    import numpy as np  # noqa: PLC0415
    from sklearn.metrics import adjusted_rand_score  # noqa: PLC0415
    sparse = np.load(osp.join(out_dir, f'sparse_{num}.npz'))
    dense = np.load(osp.join(out_dir, f'dense_{num}.npz'))
    return dict(
        ari=float(adjusted_rand_score(dense['cluster_labels'],
                                      sparse['cluster_labels'])),
        clusters_identical=bool(np.array_equal(dense['cluster_labels'],
                                               sparse['cluster_labels'])),
        multilabels_identical=bool(
            np.array_equal(dense['indptr'], sparse['indptr'])
            and np.array_equal(dense['indices'], sparse['indices'])))


def fmt_step(step):
    if not step:
        return '-'
    return f"{step['seconds']:7.2f} s {step['peak_bytes'] / GIB:5.2f} G"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=DEFAULT_SIZES)
    parser.add_argument('--dense-max', type=int, default=18048,
                        help='largest N for the dense reference')
    parser.add_argument('--no-dense', action='store_true')
    parser.add_argument('--timeout', type=float, default=3600.0,
                        help='seconds allowed per subprocess')
    parser.add_argument('--child', nargs=3, metavar=('MODE', 'N', 'DIR'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, num, out_dir = args.child[0], int(args.child[1]), args.child[2]
        runner = run_sparse if mode == 'sparse' else run_dense
        print(json.dumps(runner(num, out_dir)))
        return

    results = []
    with tempfile.TemporaryDirectory() as out_dir:
        for num in args.sizes:
            entry = dict(num=num, load_average=os.getloadavg()[0])
            entry['sparse'] = spawn('sparse', num, out_dir, args.timeout)
            if not args.no_dense and num <= args.dense_max:
                entry['dense'] = spawn('dense', num, out_dir, args.timeout)
                if 'error' not in entry['sparse'] and 'error' not in entry['dense']:
                    entry['agreement'] = compare(num, out_dir)
            results.append(entry)
            print_entry(entry)

    summary = summarise(results)
    print()
    print('targets:')
    for line in summary['checks']:
        print('  ' + line)
    print(json.dumps(dict(benchmark='pseudo_labels', cpu_count=os.cpu_count(),
                          results=results, targets_met=summary['met'])))


def print_entry(entry):
    num, sparse = entry['num'], entry['sparse']
    print(f'\nN = {num:,}')
    if 'error' in sparse:
        print(f'  sparse: {sparse["error"]}')
        return
    print(f'  {"step":12s} {"sparse (s, peak RSS)":>22s} {"dense reference":>22s}')
    dense = entry.get('dense', {})
    for name in ('knn', 'multilabels', 'jaccard', 'dbscan', 'recall'):
        if name not in sparse['steps'] and name not in dense.get('steps', {}):
            continue
        print(f'  {name:12s} {fmt_step(sparse["steps"].get(name)):>22s} '
              f'{fmt_step(dense.get("steps", {}).get(name)):>22s}')
    dense_total = (f'{dense["total_seconds"]:7.2f} s {dense["peak_bytes"] / GIB:5.2f} G'
                   if 'total_seconds' in dense else dense.get('error', '-'))
    print(f'  {"total":12s} {sparse["total_seconds"]:7.2f} s '
          f'{sparse["peak_bytes"] / GIB:5.2f} G {dense_total:>22s}')
    print(f'  (sparse: {sparse["cpu_seconds"]:.1f} CPU-seconds; process peak '
          f'includes {sparse["setup_peak_bytes"] / GIB:.2f} G of imports and '
          'data; load average before the run '
          f'{entry.get("load_average", float("nan")):.2f})')
    print(f'  search={sparse["search"]} clusters={sparse["num_clusters"]} '
          f'singletons={sparse["num_singletons"]} '
          f'multilabel pairs={sparse["num_multilabel_pairs"]} '
          f't={sparse["threshold"]:.3f}')
    print(f'  pairwise P/R: clusters {sparse["cluster_precision"]:.3f}/'
          f'{sparse["cluster_recall"]:.3f}, multi-labels '
          f'{sparse["multilabel_precision"]:.3f}/{sparse["multilabel_recall"]:.3f}')
    if sparse.get('neighbour_recall') is not None:
        print(f'  approximate kNN recall@30 (1000 sampled rows): '
              f'{sparse["neighbour_recall"]:.4f}')
    if sparse.get('sampled_multilabels'):
        agreement = sparse['sampled_multilabels']
        print(f'  multi-label positives vs exact ({agreement["rows"]} sampled rows): '
              f'recall {agreement["recall"]:.4f}, precision '
              f'{agreement["precision"]:.4f}')
    if 'agreement' in entry:
        agreement = entry['agreement']
        print(f'  vs dense: ARI {agreement["ari"]:.6f}, clusters identical '
              f'{agreement["clusters_identical"]}, multi-labels identical '
              f'{agreement["multilabels_identical"]}')


def summarise(results):
    checks, met = [], {}
    for entry in results:
        num, sparse = entry['num'], entry['sparse']
        if num in TARGETS:
            seconds, gib = TARGETS[num]
            ok = ('error' not in sparse and sparse['total_seconds'] <= seconds
                  and sparse['peak_bytes'] / GIB <= gib)
            met[f'time_memory_{num}'] = ok
            got = (sparse['error'] if 'error' in sparse else
                   f'{sparse["total_seconds"]:.1f} s, '
                   f'{sparse["peak_bytes"] / GIB:.2f} GiB')
            checks.append(f'N={num:,}: <= {seconds:.0f} s and <= {gib} GiB: '
                          f'{got} -> {"met" if ok else "NOT met"}')
        if num in ARI_TARGET_SIZES and 'agreement' in entry:
            ok = entry['agreement']['ari'] == 1.0
            met[f'ari_{num}'] = ok
            checks.append(f'N={num:,}: ARI 1.0 vs dense: '
                          f'{entry["agreement"]["ari"]:.6f} -> '
                          f'{"met" if ok else "NOT met"}')
    return dict(checks=checks, met=met)


if __name__ == '__main__':
    main()
