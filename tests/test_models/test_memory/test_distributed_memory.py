"""Two gloo processes: the memory's gathered updates and the store's broadcast.

Each rank applies its own share of a scripted sequence of ``fill``/``update`` calls
(disjoint rows, unequal counts, empty ranks, one bank only, and one row updated by
both ranks). Both ranks must end with bit-identical banks, equal (within 1e-6; the
operations are the same, so in practice exactly) to a single process that applies
rank 0's call and then rank 1's call at every step.
"""
import socket
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp

from mmssl.models.memory import PersonMemory
from mmssl.models.pseudo_labels import PseudoLabelStore

WORKER_DIR = str(Path(__file__).resolve().parent)
TOLERANCE = 1e-6


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def spawn_two_ranks(worker, out_dir, timeout_s=120):
    context = mp.start_processes(worker.run, args=(free_port(), str(out_dir)),
                                 nprocs=worker.WORLD_SIZE, join=False,
                                 start_method='spawn')
    deadline = time.monotonic() + timeout_s
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            raise TimeoutError(f'distributed workers did not finish in {timeout_s} s')


def test_two_rank_memory_update_and_label_broadcast(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(WORKER_DIR)  # spawned children inherit sys.path
    import _mmssl_memory_dist_worker as worker
    spawn_two_ranks(worker, tmp_path)
    ranks = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True)
             for r in range(worker.WORLD_SIZE)]

    # identical banks on both ranks
    for key, value in ranks[0]['memory'].items():
        assert torch.equal(value, ranks[1]['memory'][key]), key

    # equal to one process applying the ranks' calls in rank order
    reference = PersonMemory(num_samples=worker.NUM_SAMPLES, feat_dim=worker.FEAT_DIM)
    for method, per_rank in worker.memory_script():
        for rank in range(worker.WORLD_SIZE):
            getattr(reference, method)(*per_rank[rank])
    for key in ('instance_feats', 'exemplar_feats'):
        torch.testing.assert_close(ranks[0]['memory'][key], getattr(reference, key),
                                   rtol=0, atol=TOLERANCE)
    assert bool(ranks[1]['memory']['initialised'])
    # the script touched every row, and row 2 saw both ranks' updates
    assert (reference.instance_feats.norm(dim=1) > 0.99).all()

    # rank 1 started with an empty store and received both label sets
    for step, labels in enumerate(worker.label_script()):
        expected = PseudoLabelStore()
        expected.set(*labels)
        for rank in range(worker.WORLD_SIZE):
            got = ranks[rank]['labels'][step]
            for key, value in expected.state_dict().items():
                assert torch.equal(got[key], value) or (
                    key == 'threshold' and torch.isnan(value) and torch.isnan(
                        got[key])), (rank, step, key)
