import threading

import pytest
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


def test_the_threads_are_kept_from_call_to_call():
    barrier = threading.Barrier(2, timeout=10)

    def thread_of(chunk):
        if chunk < 2:
            barrier.wait()  # the first two chunks are in flight at once
        return threading.current_thread()

    first = set(map_chunks(thread_of, range(2), workers=2))
    later = set(map_chunks(thread_of, range(2, 8), workers=2))
    assert len(first) == 2
    assert later <= first  # the same thread objects: none started anew
    assert all(thread.name.startswith('mmssl-chunks') for thread in first)


def test_a_nested_call_runs_in_its_chunk_thread():
    def inner(chunk):
        return threading.get_ident()

    def outer(chunk):
        # every pool thread is busy with an outer chunk: a nested call that
        # queued its chunks on the pool would wait for ever
        mine = threading.get_ident()
        return all(ident == mine
                   for ident in map_chunks(inner, range(4), workers=2))

    assert map_chunks(outer, range(4), workers=2) == [True] * 4


def test_a_forked_child_starts_its_own_threads():
    import multiprocessing
    if 'fork' not in multiprocessing.get_all_start_methods():
        pytest.skip('no fork start method')
    map_chunks(lambda x: x, range(4), workers=2)  # the parent's pool exists
    with multiprocessing.get_context('fork').Pool(1) as pool:
        assert pool.apply(_squares_on_two_threads) == [x * x for x in range(6)]


def _squares_on_two_threads():
    return map_chunks(lambda x: x * x, range(6), workers=2)
