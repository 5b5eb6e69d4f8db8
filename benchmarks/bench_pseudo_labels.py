"""Benchmark: pseudo-label generation at scale (``mmssl.labels``; issues 5 and 16).

Runs :func:`mmssl.labels.generate_pseudo_labels` (kNN, dynamic multi-labels of Eq.
7-10, sparse k-reciprocal Jaccard distance, self-paced DBSCAN) on two kinds of
synthetic features (d=256, :mod:`mmssl.labels.synthetic_features`):

* ``clustered``: the project's bank (N/4 identities with several noisy samples each,
  shared attributes, a cross-scale-like low-resolution drift);
* ``spcl``: SpCL-like density (identities of about 4 members, 20% singletons,
  within-identity cosine 0.7-0.9), whose k-reciprocal weight rows are 2.3x denser;

at

* N = 5,000 (agreement and speed against SpCL's own path, below),
* N = 18,048 (PRW's train boxes),
* N = 55,272 (CUHK-SYSU's train boxes),
* N = 1,000,000 (clustered only: approximate HNSW index refined by a
  neighbours-of-neighbours join; its kNN recall and the multi-label positives it
  finds are measured against exact search on a sample).

Up to 18,048 rows each process calls mmssl (and SpCL's path) more than once: the
first call pays a fresh process's one-time costs (kernel set-up, fresh memory pages),
the later ones are what each later epoch of a training pays (``total again``: the
median of the later calls, with their range). At 5,000 rows mmssl makes 1 + 5 calls
and SpCL's path 1 + 2, so that the speed-up of the later calls is a ratio of medians
(a 2-core virtual machine here moved single steps of 20-30 ms by 2-5x from one call
to the next); both speed-ups over SpCL's path are reported.

Each run is its own subprocess, so that its peak memory is its own: the table shows
seconds and peak RSS per step (the peak is reset at each step start through
``/proc/self/clear_refs`` where the kernel allows it) and for the whole process
(imports and the synthetic features included). CPU-seconds and the load average are
printed too: on a shared machine, wall time grows with other processes' load. Every
process uses ``--threads`` threads (torch, faiss; scikit-learn's DBSCAN in SpCL's
path uses ``n_jobs=-1``, all cores, as SpCL does).

Two references, each in its own subprocess:

* the dense reference (:mod:`mmssl.labels.dense_reference`, ``N x N`` arrays, N <=
  18,048 by default): cluster labels and multi-labels must be identical;
* SpCL's path (N <= 5,000 by default), transcribed from SpCL's
  ``spcl/utils/faiss_rerank.py: compute_jaccard_distance`` and the self-paced
  DBSCAN step of ``examples/spcl_train_usl.py`` (faiss ``IndexFlatL2`` kNN, torch
  softmax, float32 ``N x N`` matrices, scikit-learn DBSCAN on the dense distance,
  the ``R_comp``/``R_indep`` criterion on ``N x N`` label matrices) with mmssl's
  ``eps`` (0.68/0.70/0.72); its reciprocal-set and inverted-index loops are the
  dense reference's, which transcribe the same code. The speed-up is its total
  over mmssl's, and the ARI of the two labellings is printed.

Targets (2 cores, both kinds of features): N=18,048 <= 4 s and <= 1.1 GiB; N=55,272
<= 20 s and <= 1.5 GiB; N=1,000,000 <= 30 min and <= 16 GiB; at least 20x faster
than SpCL's path at 5,000; clusters identical to the dense reference at 5,000 and
18,048.

Usage::

    python benchmarks/bench_pseudo_labels.py                 # every run
    python benchmarks/bench_pseudo_labels.py --sizes 18048 55272 --features spcl
    python benchmarks/bench_pseudo_labels.py --no-dense --no-spcl
    python benchmarks/bench_pseudo_labels.py --proposals 18048  # exact-search ways

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
FEATURE_KINDS = ('clustered', 'spcl')
ONLY_CLUSTERED_ABOVE = 55272  # the 1,000,000 run uses the clustered bank only
BOXES_PER_IMAGE = {18048: 3.2, 55272: 4.9}  # PRW, CUHK-SYSU
TARGETS = {  # N: (seconds, GiB)
    18048: (4.0, 1.1),
    55272: (20.0, 1.5),
    1000000: (1800.0, 16.0),
}
IDENTICAL_TARGET_SIZES = (5000, 18048)
SPEEDUP_TARGET = (5000, 20.0)  # N, times faster than SpCL's path
REPEATS = 2  # calls per process up to REPEAT_MAX rows (repeats_for)
REPEAT_MAX = 18048
#: Calls per process at the speed-up size (SPEEDUP_TARGET's N), by mode.
SPEEDUP_REPEATS = {'sparse': 6, 'spcl': 3}
EPS = (0.68, 0.70, 0.72)
GIB = 1024 ** 3
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def import_labels(threads: int):
    """Import ``mmssl.labels`` without running ``mmssl/__init__`` (which imports
    mmdet, ~150 MB that the labels code does not use), so that peak memory is the
    labels code's own; set the thread counts."""
    if 'mmssl' not in sys.modules:
        package = types.ModuleType('mmssl')
        package.__path__ = [osp.join(REPO, 'mmssl')]
        sys.modules['mmssl'] = package
    import faiss  # noqa: PLC0415
    import torch  # noqa: PLC0415

    import mmssl.labels as labels  # noqa: PLC0415
    # Import the lazily imported libraries now (a training process has them
    # loaded), so that step times do not include import times.
    import sklearn.cluster  # noqa: F401,PLC0415
    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
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


def repeats_for(num: int, mode: str = 'sparse') -> int:
    """Calls per process at ``num`` rows: the first (a fresh process: one-time
    kernel set-up, fresh pages) and, up to :data:`REPEAT_MAX` rows, the later
    ones of a process that has run it before (each epoch after the first); more
    at the speed-up size (:data:`SPEEDUP_REPEATS`), whose later calls are
    compared by their medians."""
    if num == SPEEDUP_TARGET[0]:
        return SPEEDUP_REPEATS.get(mode, REPEATS)
    return REPEATS if num <= REPEAT_MAX else 1


def later_calls(totals, cpus, steps=None) -> dict:
    """The ``repeat`` record of a child's later calls: medians (total, CPU time,
    each step) and every call's total."""
    import numpy as np  # noqa: PLC0415
    record = dict(total_seconds=float(np.median(totals)),
                  cpu_seconds=float(np.median(cpus)), calls=len(totals),
                  all_seconds=[float(t) for t in totals])
    if steps:
        record['steps'] = {name: dict(seconds=float(np.median(
            [call[name] for call in steps]))) for name in steps[0]}
    return record


def make_bank(labels, kind: str, num: int):
    if kind == 'spcl':
        return labels.make_spcl_style_bank(
            num, dim=256, boxes_per_image=BOXES_PER_IMAGE.get(num, 4.0), seed=num)
    return labels.make_clustered_bank(
        num, dim=256, boxes_per_image=BOXES_PER_IMAGE.get(num, 4.0), seed=num)


class StepTimer:
    """Seconds and peak RSS of consecutive steps (peak reset at each start)."""

    def __init__(self, label: str):
        self.label = label
        self.steps = {}
        self.setup_peak = peak_rss()  # imports and the synthetic bank
        self.can_reset = reset_peak()
        self.tick = time.perf_counter()

    def done(self, name: str, seconds: float = None) -> None:
        now = time.perf_counter()
        seconds = now - self.tick if seconds is None else seconds
        self.steps[name] = dict(seconds=seconds, peak_bytes=peak_rss())
        print(f'  [{self.label}] {name}: {seconds:.2f} s, peak '
              f'{self.steps[name]["peak_bytes"] / GIB:.2f} GiB', file=sys.stderr,
              flush=True)
        reset_peak()
        self.tick = time.perf_counter()

    def peak(self) -> int:
        # clear_refs also resets ru_maxrss: the process peak is the largest of these
        return max([self.setup_peak, peak_rss()] +
                   [s['peak_bytes'] for s in self.steps.values()])


def run_sparse(kind: str, num: int, out_dir: str, threads: int) -> dict:
    """Child: mmssl's sparse pipeline on one kind of features at one size."""
    import numpy as np  # noqa: PLC0415
    labels = import_labels(threads)
    tick = time.perf_counter()
    bank = make_bank(labels, kind, num)
    data_seconds = time.perf_counter() - tick
    timer = StepTimer(f'{kind} N={num:,}')
    cpu = time.process_time()
    result = labels.generate_pseudo_labels(
        bank.features, bank.image_ids, epoch=0, eps=EPS,
        recall_sample=1000 if num > labels.pseudo_label_generator.APPROXIMATE_ABOVE
        else 0, step_callback=lambda name, seconds: timer.done(name, seconds))
    cpu = time.process_time() - cpu
    totals, cpus, steps = [], [], []
    for _ in range(repeats_for(num, 'sparse') - 1):  # as later epochs run it
        again_cpu = time.process_time()
        again = labels.generate_pseudo_labels(bank.features, bank.image_ids,
                                              epoch=0, eps=EPS)
        cpus.append(time.process_time() - again_cpu)
        totals.append(again.timings['total'])
        steps.append({name: seconds for name, seconds in again.timings.items()
                      if name != 'total'})
    repeat = later_calls(totals, cpus, steps) if totals else None
    cluster_quality = labels.pairwise_precision_recall(result.cluster_labels,
                                                       bank.person_ids)
    multilabel_quality = labels.pairwise_precision_recall(result.multilabels,
                                                          bank.person_ids)
    multilabel_agreement = None
    if result.search != 'exact':
        multilabel_agreement = sampled_multilabel_agreement(labels, bank, result)
    np.savez(osp.join(out_dir, f'sparse_{kind}_{num}.npz'),
             cluster_labels=result.cluster_labels,
             indptr=result.multilabel_indptr, indices=result.multilabel_indices)
    return dict(
        num=num, mode='sparse', search=result.search,
        total_seconds=result.timings['total'], cpu_seconds=cpu,
        peak_bytes=timer.peak(), setup_peak_bytes=timer.setup_peak,
        per_step_peak_reset=timer.can_reset, steps=timer.steps,
        repeat=repeat, data_seconds=data_seconds, threshold=result.threshold,
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


def run_dense(kind: str, num: int, out_dir: str, threads: int) -> dict:
    """Child: the dense reference at one size (``N x N`` arrays)."""
    import numpy as np  # noqa: PLC0415
    labels = import_labels(threads)
    bank = make_bank(labels, kind, num)
    dense = labels.dense_reference
    timer = StepTimer(f'dense {kind} N={num:,}')
    start = time.perf_counter()
    multilabels = dense.dense_multilabels(bank.features, bank.image_ids,
                                          labels.dynamic_threshold(0))
    timer.done('multilabels')
    distance = dense.dense_jaccard_distance(bank.features)
    timer.done('jaccard')
    cluster_labels, _ = dense.dense_self_paced_labels(distance, EPS)
    timer.done('dbscan')
    total = time.perf_counter() - start
    rows, cols = np.nonzero(multilabels)
    indptr = np.zeros(num + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=num), out=indptr[1:])
    np.savez(osp.join(out_dir, f'dense_{kind}_{num}.npz'),
             cluster_labels=cluster_labels, indptr=indptr,
             indices=cols.astype(np.int64))
    return dict(num=num, mode='dense', total_seconds=total,
                peak_bytes=timer.peak(), steps=timer.steps)


# --------------------------------------------------------------- SpCL's path
# A transcription of what SpCL runs once per epoch (yxgeee/SpCL: the CPU branch of
# spcl/utils/faiss_rerank.py compute_jaccard_distance, then the clustering block of
# examples/spcl_train_usl.py), step for step, with its data types.

def spcl_jaccard_distance(labels, features, k1: int = 30, k2: int = 6):
    """SpCL's ``compute_jaccard_distance`` (CPU search, float32), ``(N, N)``.

    The reciprocal-set loops and the final inverted-index loop are the dense
    reference's (:func:`mmssl.labels.dense_reference.dense_expanded_sets`,
    ``dense_overlap_distance``), which transcribe the same SpCL code and follow the
    dtype of ``V``; the search, the softmax and ``V`` are SpCL's own here.
    """
    import faiss  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: PLC0415
    dense = labels.dense_reference
    num = features.size(0)
    index = faiss.IndexFlatL2(features.size(-1))
    index.add(features.numpy())
    _, initial_rank = index.search(features.numpy(), k1)

    V = np.zeros((num, num), dtype=np.float32)
    for i, expansion in enumerate(dense.dense_expanded_sets(initial_rank, k1)):
        dist = 2 - 2 * torch.mm(features[i].unsqueeze(0).contiguous(),
                                features[expansion].t())
        V[i, expansion] = F.softmax(-dist, dim=1).view(-1).cpu().numpy()

    if k2 != 1:
        V_qe = np.zeros_like(V, dtype=np.float32)
        for i in range(num):
            V_qe[i, :] = np.mean(V[initial_rank[i, :k2], :], axis=0)
        V = V_qe
        del V_qe
    del initial_rank
    return dense.dense_overlap_distance(V)


def spcl_self_paced_labels(distance, eps=EPS):
    """The clustering block of SpCL's ``spcl_train_usl.py`` at epoch 0."""
    import collections  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from sklearn.cluster import DBSCAN  # noqa: PLC0415
    eps_tight, eps_normal, eps_loose = sorted(eps)
    cluster = DBSCAN(eps=eps_normal, min_samples=4, metric='precomputed', n_jobs=-1)
    cluster_tight = DBSCAN(eps=eps_tight, min_samples=4, metric='precomputed',
                           n_jobs=-1)
    cluster_loose = DBSCAN(eps=eps_loose, min_samples=4, metric='precomputed',
                           n_jobs=-1)
    pseudo_labels = cluster.fit_predict(distance)
    pseudo_labels_tight = cluster_tight.fit_predict(distance)
    pseudo_labels_loose = cluster_loose.fit_predict(distance)

    def with_singletons(cluster_id):
        num_ids = len(set(cluster_id)) - (1 if -1 in cluster_id else 0)
        out, outliers = [], 0
        for label in cluster_id:
            if label != -1:
                out.append(label)
            else:
                out.append(num_ids + outliers)
                outliers += 1
        return torch.Tensor(out).long()

    pseudo_labels = with_singletons(pseudo_labels)
    pseudo_labels_tight = with_singletons(pseudo_labels_tight)
    pseudo_labels_loose = with_singletons(pseudo_labels_loose)

    N = pseudo_labels.size(0)
    label_sim = pseudo_labels.expand(N, N).eq(pseudo_labels.expand(N, N).t()).float()
    label_sim_tight = pseudo_labels_tight.expand(N, N).eq(
        pseudo_labels_tight.expand(N, N).t()).float()
    label_sim_loose = pseudo_labels_loose.expand(N, N).eq(
        pseudo_labels_loose.expand(N, N).t()).float()
    R_comp = 1 - torch.min(label_sim, label_sim_tight).sum(-1) / torch.max(
        label_sim, label_sim_tight).sum(-1)
    R_indep = 1 - torch.min(label_sim, label_sim_loose).sum(-1) / torch.max(
        label_sim, label_sim_loose).sum(-1)

    cluster_R_comp = collections.defaultdict(list)
    cluster_R_indep = collections.defaultdict(list)
    cluster_img_num = collections.defaultdict(int)
    for comp, indep, label in zip(R_comp, R_indep, pseudo_labels):
        cluster_R_comp[label.item()].append(comp.item())
        cluster_R_indep[label.item()].append(indep.item())
        cluster_img_num[label.item()] += 1
    cluster_R_comp = [min(cluster_R_comp[i]) for i in sorted(cluster_R_comp.keys())]
    cluster_R_indep = [min(cluster_R_indep[i])
                       for i in sorted(cluster_R_indep.keys())]
    cluster_R_indep_noins = [
        iou for iou, num in zip(cluster_R_indep, sorted(cluster_img_num.keys()))
        if cluster_img_num[num] > 1
    ]
    indep_thres = np.sort(cluster_R_indep_noins)[min(
        len(cluster_R_indep_noins) - 1,
        np.round(len(cluster_R_indep_noins) * 0.9).astype('int'))]

    outliers = 0
    for i, label in enumerate(pseudo_labels):
        indep_score = cluster_R_indep[label.item()]
        comp_score = R_comp[i]
        if not (indep_score <= indep_thres
                and comp_score.item() <= cluster_R_comp[label.item()]):
            pseudo_labels[i] = len(cluster_R_indep) + outliers
            outliers += 1
    return pseudo_labels.numpy()


def run_spcl(kind: str, num: int, out_dir: str, threads: int) -> dict:
    """Child: SpCL's path at one size."""
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    labels = import_labels(threads)
    bank = make_bank(labels, kind, num)
    timer = StepTimer(f'SpCL {kind} N={num:,}')
    cpu = time.process_time()
    start = time.perf_counter()
    distance = spcl_jaccard_distance(labels, torch.from_numpy(bank.features))
    timer.done('jaccard')
    cluster_labels = spcl_self_paced_labels(distance)
    timer.done('dbscan')
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu
    totals, cpus = [], []
    for _ in range(repeats_for(num, 'spcl') - 1):
        del distance  # as SpCL's next epoch would have freed it
        again_cpu = time.process_time()
        again = time.perf_counter()
        distance = spcl_jaccard_distance(labels, torch.from_numpy(bank.features))
        spcl_self_paced_labels(distance)
        totals.append(time.perf_counter() - again)
        cpus.append(time.process_time() - again_cpu)
    repeat = later_calls(totals, cpus) if totals else None
    np.savez(osp.join(out_dir, f'spcl_{kind}_{num}.npz'),
             cluster_labels=cluster_labels)
    return dict(num=num, mode='spcl', total_seconds=total, cpu_seconds=cpu,
                peak_bytes=timer.peak(), steps=timer.steps, repeat=repeat)


# ------------------------------------------------- exact-search proposals
def run_proposals(kind: str, num: int, out_dir: str, threads: int) -> dict:
    """Child: seconds to propose every row's top ``k + 16`` candidates, each way
    mmssl's exact search could (the ways it dropped included), at one size."""
    import faiss  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    labels = import_labels(threads)
    features = make_bank(labels, kind, num).features
    fetch = 30 + 16
    rows_per_block = max(1, (1 << 24) // num)

    def blocks(matmul, select):
        for start in range(0, num, rows_per_block):
            select(matmul(start, min(num, start + rows_per_block)))

    def numpy_way():
        blocks(lambda lo, hi: features[lo:hi] @ features.T,
               lambda block: np.argpartition(block, -fetch, axis=1)[:, -fetch:])

    def torch_way(dtype):
        matrix = torch.from_numpy(features).to(dtype)
        blocks(lambda lo, hi: matrix[lo:hi] @ matrix.T,
               lambda block: torch.topk(block, fetch, dim=1, sorted=False))

    def faiss_way():
        index = faiss.IndexFlatIP(features.shape[1])
        index.add(features)
        index.search(features, fetch)

    seconds = {}
    for name, way in (('faiss IndexFlatIP', faiss_way), ('numpy float32', numpy_way),
                      ('torch float32', lambda: torch_way(torch.float32)),
                      ('torch bfloat16', lambda: torch_way(torch.bfloat16))):
        tick = time.perf_counter()
        way()
        seconds[name] = time.perf_counter() - tick
        print(f'  [proposals N={num:,}] {name}: {seconds[name]:.2f} s',
              file=sys.stderr, flush=True)
    return dict(num=num, mode='proposals', seconds=seconds,
                bfloat16_native=labels.proposal_precision.proposal_dtype()
                == torch.bfloat16)


# ------------------------------------------------------------------ driver
def spawn(mode: str, kind: str, num: int, out_dir: str, threads: int,
          timeout: float) -> dict:
    command = [sys.executable, osp.abspath(__file__), '--threads', str(threads),
               '--child', mode, kind, str(num), out_dir]
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


def compare(kind: str, num: int, out_dir: str, reference: str) -> dict:
    import numpy as np  # noqa: PLC0415
    from sklearn.metrics import adjusted_rand_score  # noqa: PLC0415
    canonical_labels = import_labels(1).canonical_labels
    sparse = np.load(osp.join(out_dir, f'sparse_{kind}_{num}.npz'))
    other = np.load(osp.join(out_dir, f'{reference}_{kind}_{num}.npz'))
    agreement = dict(
        ari=float(adjusted_rand_score(other['cluster_labels'],
                                      sparse['cluster_labels'])),
        clusters_identical=bool(np.array_equal(
            canonical_labels(other['cluster_labels']), sparse['cluster_labels'])))
    if 'indptr' in other:
        agreement['multilabels_identical'] = bool(
            np.array_equal(other['indptr'], sparse['indptr'])
            and np.array_equal(other['indices'], sparse['indices']))
    return agreement


def fmt_step(step):
    if not step:
        return '-'
    return f"{step['seconds']:7.2f} s {step['peak_bytes'] / GIB:5.2f} G"


def fmt_total(result):
    if not result:
        return '-'
    if 'error' in result:
        return result['error']
    return f'{result["total_seconds"]:7.2f} s {result["peak_bytes"] / GIB:5.2f} G'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=DEFAULT_SIZES)
    parser.add_argument('--features', nargs='+', choices=FEATURE_KINDS,
                        default=FEATURE_KINDS)
    parser.add_argument('--dense-max', type=int, default=18048,
                        help='largest N for the dense reference')
    parser.add_argument('--spcl-max', type=int, default=5000,
                        help="largest N for SpCL's path")
    parser.add_argument('--no-dense', action='store_true')
    parser.add_argument('--no-spcl', action='store_true')
    parser.add_argument('--threads', type=int, default=min(2, os.cpu_count()),
                        help='torch and faiss threads of every process')
    parser.add_argument('--proposals', type=int, metavar='N',
                        help="only time the exact search's candidate proposals "
                        '(faiss, numpy, torch float32 and bfloat16) at N rows of '
                        'the spcl features')
    parser.add_argument('--timeout', type=float, default=3600.0,
                        help='seconds allowed per subprocess')
    parser.add_argument('--child', nargs=4, metavar=('MODE', 'KIND', 'N', 'DIR'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, kind, num, out_dir = args.child
        runner = dict(sparse=run_sparse, dense=run_dense, spcl=run_spcl,
                      proposals=run_proposals)[mode]
        print(json.dumps(runner(kind, int(num), out_dir, args.threads)))
        return
    if args.proposals:
        load = os.getloadavg()[0]
        result = spawn('proposals', 'spcl', args.proposals, '.', args.threads,
                       args.timeout)
        result['load_average'] = load
        for name, seconds in result.get('seconds', {}).items():
            print(f'  {name:20s} {seconds:7.2f} s')
        print(json.dumps(dict(benchmark='pseudo_label_proposals',
                              threads=args.threads, result=result)))
        return

    results = []
    with tempfile.TemporaryDirectory() as out_dir:
        for num in args.sizes:
            for kind in args.features:
                if kind != 'clustered' and num > ONLY_CLUSTERED_ABOVE:
                    continue
                entry = dict(num=num, features=kind,
                             load_average=os.getloadavg()[0])
                entry['sparse'] = spawn('sparse', kind, num, out_dir, args.threads,
                                        args.timeout)
                for reference, limit, skip in (('dense', args.dense_max,
                                                args.no_dense),
                                               ('spcl', args.spcl_max,
                                                args.no_spcl)):
                    if skip or num > limit:
                        continue
                    entry[reference] = spawn(reference, kind, num, out_dir,
                                             args.threads, args.timeout)
                    if ('error' not in entry['sparse']
                            and 'error' not in entry[reference]):
                        entry[f'{reference}_agreement'] = compare(
                            kind, num, out_dir, reference)
                if 'total_seconds' in entry.get('spcl', {}) and \
                        'total_seconds' in entry['sparse']:
                    entry['speedup_vs_spcl'] = (entry['spcl']['total_seconds']
                                                / entry['sparse']['total_seconds'])
                    entry['cpu_speedup_vs_spcl'] = (entry['spcl']['cpu_seconds']
                                                    / entry['sparse']['cpu_seconds'])
                    if entry['spcl'].get('repeat') and entry['sparse'].get('repeat'):
                        entry['repeat_speedup_vs_spcl'] = (
                            entry['spcl']['repeat']['total_seconds']
                            / entry['sparse']['repeat']['total_seconds'])
                entry['load_average_after'] = os.getloadavg()[0]
                results.append(entry)
                print_entry(entry)

    summary = summarise(results)
    print()
    print('targets:')
    for line in summary['checks']:
        print('  ' + line)
    print(json.dumps(dict(benchmark='pseudo_labels', cpu_count=os.cpu_count(),
                          threads=args.threads, results=results,
                          targets_met=summary['met'])))


def print_entry(entry):
    num, sparse = entry['num'], entry['sparse']
    print(f'\nN = {num:,}, {entry["features"]} features')
    if 'error' in sparse:
        print(f'  sparse: {sparse["error"]}')
        return
    references = [name for name in ('dense', 'spcl') if name in entry]
    heads = {'dense': 'dense reference', 'spcl': "SpCL's path"}
    print(f'  {"step":12s} {"mmssl (s, peak RSS)":>22s}' +
          ''.join(f' {heads[name]:>22s}' for name in references))
    for name in ('knn', 'multilabels', 'jaccard', 'dbscan', 'recall'):
        if not any(name in entry[r].get('steps', {}) for r in ['sparse'] +
                   references):
            continue
        print(f'  {name:12s} {fmt_step(sparse["steps"].get(name)):>22s}' +
              ''.join(f' {fmt_step(entry[r].get("steps", {}).get(name)):>22s}'
                      for r in references))
    print(f'  {"total":12s} {fmt_total(sparse):>22s}' +
          ''.join(f' {fmt_total(entry[r]):>22s}' for r in references))
    if sparse.get('repeat'):
        print(f'  {"total again":12s} {sparse["repeat"]["total_seconds"]:7.2f} s'
              + ' ' * 8 + ''.join(
                  f' {entry[r]["repeat"]["total_seconds"]:7.2f} s' + ' ' * 8
                  if entry[r].get('repeat') else f' {"-":>22s}'
                  for r in references))
        spread = sparse['repeat']['all_seconds']
        print(f'  (total again: the median of {len(spread)} later call(s) in the '
              f'same process, as in every epoch after the first; mmssl\'s ranged '
              f'{min(spread):.3f}-{max(spread):.3f} s; median steps ' + ', '.join(
                  f'{name} {step["seconds"]:.2f} s'
                  for name, step in sparse['repeat']['steps'].items()) + ')')
    print(f'  (mmssl: {sparse["cpu_seconds"]:.1f} CPU-seconds; process peak '
          f'includes {sparse["setup_peak_bytes"] / GIB:.2f} G of imports and '
          'data; load average before/after the runs '
          f'{entry["load_average"]:.2f}/{entry["load_average_after"]:.2f})')
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
    if 'dense_agreement' in entry:
        agreement = entry['dense_agreement']
        print(f'  vs dense: ARI {agreement["ari"]:.6f}, clusters identical '
              f'{agreement["clusters_identical"]}, multi-labels identical '
              f'{agreement["multilabels_identical"]}')
    if 'spcl_agreement' in entry:
        agreement = entry['spcl_agreement']
        print(f"  vs SpCL's path: ARI {agreement['ari']:.6f}, clusters identical "
              f"{agreement['clusters_identical']}")
    if 'speedup_vs_spcl' in entry:
        print(f"  speed-up vs SpCL's path: {entry['speedup_vs_spcl']:.1f}x wall time, "
              f"{entry['cpu_speedup_vs_spcl']:.1f}x CPU time (SpCL: "
              f"{entry['spcl']['cpu_seconds']:.1f} CPU-seconds) on the first call")
    if 'repeat_speedup_vs_spcl' in entry:
        print(f"  speed-up vs SpCL's path on the later calls (ratio of their "
              f"medians): {entry['repeat_speedup_vs_spcl']:.1f}x wall time")


def summarise(results):
    checks, met = [], {}
    for entry in results:
        num, sparse, kind = entry['num'], entry['sparse'], entry['features']
        name = f'N={num:,} {kind}'
        if num in TARGETS:
            seconds, gib = TARGETS[num]
            ok = ('error' not in sparse and sparse['total_seconds'] <= seconds
                  and sparse['peak_bytes'] / GIB <= gib)
            met[f'time_memory_{kind}_{num}'] = ok
            got = (sparse['error'] if 'error' in sparse else
                   f'{sparse["total_seconds"]:.1f} s, '
                   f'{sparse["peak_bytes"] / GIB:.2f} GiB')
            checks.append(f'{name}: <= {seconds:.0f} s and <= {gib} GiB: '
                          f'{got} -> {"met" if ok else "NOT met"}')
        if num in IDENTICAL_TARGET_SIZES and 'dense_agreement' in entry:
            ok = (entry['dense_agreement']['clusters_identical']
                  and entry['dense_agreement']['multilabels_identical'])
            met[f'identical_{kind}_{num}'] = ok
            checks.append(f'{name}: labels identical to the dense reference -> '
                          f'{"met" if ok else "NOT met"}')
        for key, call in (('speedup_vs_spcl', 'first call'),
                          ('repeat_speedup_vs_spcl', 'later calls, medians')):
            if num == SPEEDUP_TARGET[0] and key in entry:
                ok = entry[key] >= SPEEDUP_TARGET[1]
                suffix = '' if call == 'first call' else '_repeat'
                met[f'speedup_{kind}_{num}{suffix}'] = ok
                checks.append(f"{name}: >= {SPEEDUP_TARGET[1]:.0f}x faster than "
                              f"SpCL's path ({call}): {entry[key]:.1f}x -> "
                              f'{"met" if ok else "NOT met"}')
    return dict(checks=checks, met=met)


if __name__ == '__main__':
    main()
