"""Benchmark: the gallery index (``mmssl.apis.GalleryIndex``, issue 14).

1. **Search at scale.** Synthetic 256-d galleries of 10,000, 100,000 and 1,000,000
   rows (clustered re-id-like embeddings, :mod:`mmssl.labels.synthetic_features`:
   a person is seen in 20 detections on average, as in footage sampled every few
   frames) are written as real index folders (SQLite table + faiss file) through
   ``GalleryIndex.add_detections`` and ``save``, then opened in a fresh process and
   queried 200 times with held-out detections of the same persons: the median and
   95th-percentile latency of ``GalleryIndex.search(feature, k=10)`` (table look-up
   included) with one thread, and the index memory (the RSS the opened index adds,
   and the peak while searching). The automatic choice is exact search at all three
   sizes (``approximate_above`` = 1,000,000); at 1,000,000 rows the approximate HNSW
   index is measured too, with its recall@10 against the exact top 10.
2. **Recall on look-alike galleries.** 100,000 rows where a person has 4 detections
   on average (the exact top 10 is then mostly near-ties of other persons): HNSW
   recall@10 against exact search, for the record.
3. **Indexing throughput.** Frames per second of ``GalleryIndex.add_images`` (decode,
   detect, embed, table and vector commits) for ``configs/ssl_r18c16-c4_6e_synthps.py`` on 64
   SynthPS test frames, one torch thread (the config's ``TorchThreadsHook``), batch
   sizes 1 and 4 (the config's test batch size). Without ``--checkpoint`` the
   weights are untrained: the cost per frame hardly depends on them (the second
   stage runs on a fixed 150 proposals per frame).

Targets (2 cores): median query <= 50 ms at 1M rows, index memory <= 2 GiB at 1M
rows, approximate recall@10 >= 0.95.

Usage::

    python benchmarks/bench_gallery_index.py            # everything
    python benchmarks/bench_gallery_index.py --sizes 10000 --no-throughput

The last line of the output is one JSON object with all figures.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_pseudo_labels import peak_rss, reset_peak  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
APPROXIMATE_SIZE = 1_000_000
LOOKALIKE_SIZE = 100_000
NUM_QUERIES = 200
DIM = 256
CHUNK = 100_000
GIB = 1024 ** 3
TARGETS = dict(median_ms=50.0, memory_gib=2.0, recall=0.95)


def current_rss() -> int:
    """Resident memory of this process now, in bytes."""
    with open('/proc/self/status') as handle:
        for line in handle:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return 0


def make_gallery(num: int, per_person: int, seed: int):
    """``(gallery, queries)``: clustered rows and held-out rows of the same persons."""
    from mmssl.labels.synthetic_features import make_clustered_bank
    bank = make_clustered_bank(num + NUM_QUERIES, dim=DIM,
                               num_identities=max(1, num // per_person), seed=seed)
    return bank.features[:num], bank.features[num:]


def build(num: int, per_person: int, index_type: str, directory: str,
          build_threads: int) -> dict:
    """Child: write an index folder of ``num`` synthetic rows."""
    import faiss
    import numpy as np

    from mmssl.apis import GalleryIndex, VectorIndexSettings
    faiss.omp_set_num_threads(build_threads)
    gallery, queries = make_gallery(num, per_person, seed=num + per_person)
    np.save(osp.join(directory, 'queries.npy'), queries)
    started = time.perf_counter()
    index = GalleryIndex.create(osp.join(directory, 'index'), embed_dim=DIM,
                                settings=VectorIndexSettings(index_type=index_type))
    rng = np.random.default_rng(0)
    for start in range(0, num, CHUNK):
        stop = min(num, start + CHUNK)
        x1 = rng.uniform(0, 1800, stop - start)
        y1 = rng.uniform(0, 900, stop - start)
        rows = [dict(source=f'/footage/cam{(start + i) % 8}.mp4', kind='video',
                     frame=(start + i) // 8, time=(start + i) // 8 / 25.0,
                     bbox=[x1[i], y1[i], x1[i] + 40, y1[i] + 100], score=0.9)
                for i in range(stop - start)]
        index.add_detections(gallery[start:stop], rows)
    index.save()
    seconds = time.perf_counter() - started
    kind = index.search_kind
    index.close()
    return dict(build_seconds=seconds, kind=kind)


def search(directory: str, reference: str) -> dict:
    """Child: open the index, time the queries, measure its memory."""
    import faiss
    import numpy as np
    import torch

    from mmssl.apis import GalleryIndex
    faiss.omp_set_num_threads(1)
    torch.set_num_threads(1)
    queries = np.load(osp.join(directory, 'queries.npy'))
    before = current_rss()
    reset_peak()
    started = time.perf_counter()
    index = GalleryIndex.load(osp.join(directory, 'index'))
    load_seconds = time.perf_counter() - started
    opened = current_rss()
    index.search(queries[0], k=10)  # warm-up
    latencies, found = [], []
    for query in queries:
        tick = time.perf_counter()
        matches = index.search(query, k=10)
        latencies.append(time.perf_counter() - tick)
        found.append([m.row for m in matches])
    found = np.array(found)
    result = dict(rows=len(index), kind=index.search_kind, load_seconds=load_seconds,
                  median_ms=1e3 * float(np.median(latencies)),
                  p95_ms=1e3 * float(np.percentile(latencies, 95)),
                  memory_gib=(opened - before) / GIB,
                  peak_gib=(peak_rss() - before) / GIB)
    if reference is None:
        np.save(osp.join(directory, 'top10.npy'), found)
    else:
        exact = np.load(reference)
        result['recall_at_10'] = float(np.mean([
            len(np.intersect1d(a, b)) / 10 for a, b in zip(found, exact)]))
    return result


def throughput(checkpoint, data_root, batch_sizes) -> dict:
    """Child: frames per second of GalleryIndex.add_images on SynthPS frames."""
    from mmengine.config import Config

    from mmssl.apis import GalleryIndex, init_searcher
    from mmssl.apis.gallery_sources import list_images
    from mmssl.datasets import SynthPSDataset
    from mmssl.utils import apply_thread_policy
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'ssl_r18c16-c4_6e_synthps.py'))
    SynthPSDataset(data_root=data_root, split='test', test_mode=True, pipeline=[],
                   render_cfg=cfg.test_dataloader.dataset.get('render_cfg'))
    frames = list_images(osp.join(data_root, 'frames'))[:64]
    model = init_searcher(cfg, checkpoint)
    threads = apply_thread_policy(model.cfg)
    by_batch = {}
    for batch_size in batch_sizes:
        with tempfile.TemporaryDirectory() as directory:
            index = GalleryIndex.create(directory, model)
            index.add_images(frames[:4], batch_size=batch_size, progress=False)
            summary = index.add_images(frames[4:], batch_size=batch_size,
                                       progress=False)  # warm, 60 frames
            by_batch[batch_size] = dict(
                frames=summary['frames'], seconds=summary['seconds'],
                frames_per_second=summary['frames_per_second'],
                detections=len(index))
            index.close()
    return dict(threads=threads, checkpoint=checkpoint,
                by_batch_size=by_batch)


def spawn(job: str, **kwargs) -> dict:
    """Run one job in a child process (its memory is its own); its JSON result."""
    command = [sys.executable, osp.abspath(__file__), '--child', job,
               '--child-args', json.dumps(kwargs)]
    done = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_child(job: str, kwargs: dict) -> None:
    result = dict(build=build, search=search, throughput=throughput)[job](**kwargs)
    print(json.dumps(result))


def load_average() -> str:
    return ', '.join(f'{v:.2f}' for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=list(SIZES))
    parser.add_argument('--no-approximate', action='store_true')
    parser.add_argument('--no-lookalike', action='store_true')
    parser.add_argument('--no-throughput', action='store_true')
    parser.add_argument('--checkpoint', help='SynthPS checkpoint for the throughput')
    parser.add_argument('--data-root', default=osp.join(REPO, 'data', 'synthps'),
                        help='SynthPS root (rendered there when missing)')
    parser.add_argument('--build-threads', type=int, default=2,
                        help='faiss threads while building (HNSW graphs)')
    parser.add_argument('--work-dir', help='where the index folders go (temporary)')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    parser.add_argument('--child-args', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, json.loads(args.child_args))
        return
    figures = dict(load_average_start=load_average(), search={}, approximate=None,
                   lookalike=None, throughput=None)
    with tempfile.TemporaryDirectory(dir=args.work_dir) as work:
        def measure(name, num, per_person, index_type, reference=None):
            directory = osp.join(work, name)
            os.makedirs(directory)
            built = spawn('build', num=num, per_person=per_person,
                          index_type=index_type, directory=directory,
                          build_threads=args.build_threads)
            result = spawn('search', directory=directory, reference=reference)
            result.update(built)
            print(f'  {name}: {json.dumps(result)}', file=sys.stderr, flush=True)
            return result, osp.join(directory, 'top10.npy')

        tops = {}
        for num in args.sizes:
            figures['search'][num], tops[num] = measure(f'exact_{num}', num, 20, 'auto')
        if not args.no_approximate and APPROXIMATE_SIZE in tops:
            figures['approximate'], _ = measure('hnsw', APPROXIMATE_SIZE, 20, 'hnsw',
                                                reference=tops[APPROXIMATE_SIZE])
        if not args.no_lookalike:
            _, top = measure('lookalike_exact', LOOKALIKE_SIZE, 4, 'exact')
            figures['lookalike'], _ = measure('lookalike_hnsw', LOOKALIKE_SIZE, 4,
                                              'hnsw', reference=top)
    if not args.no_throughput:
        figures['throughput'] = spawn('throughput', checkpoint=args.checkpoint,
                                      data_root=args.data_root, batch_sizes=[1, 4])
    figures['load_average_end'] = load_average()
    report(figures)
    print(json.dumps(figures))


def report(figures: dict) -> None:
    """The readable tables."""
    print(f'\nload average at start: {figures["load_average_start"]}, at end: '
          f'{figures["load_average_end"]}')
    print('\nsearch (k=10, one thread; 200 queries)')
    print(f'{"rows":>10}  {"index":>6}  {"median ms":>9}  {"p95 ms":>7}  '
          f'{"memory GiB":>10}  {"peak GiB":>8}  {"recall@10":>9}  {"build s":>7}')
    rows = [(n, r) for n, r in figures['search'].items()]
    if figures['approximate']:
        rows.append((APPROXIMATE_SIZE, figures['approximate']))
    if figures['lookalike']:
        rows.append((f'{LOOKALIKE_SIZE} (4/person)', figures['lookalike']))
    for num, r in rows:
        recall = f'{r["recall_at_10"]:.3f}' if 'recall_at_10' in r else '(exact)'
        print(f'{num:>10}  {r["kind"]:>6}  {r["median_ms"]:>9.2f}  {r["p95_ms"]:>7.2f}'
              f'  {r["memory_gib"]:>10.3f}  {r["peak_gib"]:>8.3f}  {recall:>9}'
              f'  {r["build_seconds"]:>7.1f}')
    big = figures['search'].get(APPROXIMATE_SIZE) or figures['search'].get(
        str(APPROXIMATE_SIZE))
    if big:
        print(f'targets at 1M: median {big["median_ms"]:.1f} ms (<= '
              f'{TARGETS["median_ms"]:.0f}), memory {big["memory_gib"]:.2f} GiB (<= '
              f'{TARGETS["memory_gib"]:.0f})')
    if figures['approximate']:
        print(f'target: approximate recall@10 {figures["approximate"]["recall_at_10"]:.3f}'
              f' (>= {TARGETS["recall"]})')
    if figures['throughput']:
        t = figures['throughput']
        print(f'\nindexing throughput, configs/ssl_r18c16-c4_6e_synthps.py, {t["threads"]} thread(s), '
              f'checkpoint {t["checkpoint"] or "none (untrained weights)"}')
        for batch_size, r in t['by_batch_size'].items():
            print(f'  batch {batch_size}: {r["frames_per_second"]:.2f} frames/s '
                  f'({r["frames"]} frames in {r["seconds"]:.1f} s)')


if __name__ == '__main__':
    main()
