import threading

import torch

from mmssl.labels.chunk_threads import chunk_workers, map_chunks


def test_results_keep_the_order_of_the_chunks():
    assert map_chunks(lambda x: x * x, range(20), workers=3) == [
        x * x for x in range(20)]
    assert map_chunks(lambda x: x, [], workers=2) == []


def test_chunks_run_on_several_threads():
    seen = set()
    barrier = threading.Barrier(2, timeout=10)

    def work(chunk):
        seen.add(threading.get_ident())
        barrier.wait()  # both chunks must be in flight at once
        return chunk

    assert map_chunks(work, [0, 1], workers=2) == [0, 1]
    assert len(seen) == 2


def test_one_worker_runs_in_the_calling_thread():
    caller = threading.get_ident()
    assert map_chunks(lambda _: threading.get_ident(), range(3), workers=1) == [
        caller] * 3


def test_workers_follow_torch_threads():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert chunk_workers() == 1
    finally:
        torch.set_num_threads(before)
