"""Independent chunks of array work on torch's intra-op threads.

The sparse steps of :mod:`mmssl.labels` (scipy's sparse products, numpy's gathers
and reductions) run one thread each, but they release the GIL, and they come in
chunks of rows that do not depend on each other. :func:`map_chunks` runs such chunks
on as many Python threads as torch has intra-op threads, so they follow the same
thread policy as the dense steps (the trainer's ``TorchThreadsHook``, a tool's
``--threads``): one thread, one chunk at a time.

The threads are started once per worker count and kept (:func:`chunk_pool`):
starting them anew for every call cost about 10 ms of each pseudo-label call at
5,000 rows (14 thread starts). A chunk that calls :func:`map_chunks` again runs
its own chunks in its thread, so that nested calls cannot wait on a pool that
their callers fill. A forked child (a data-loader worker) starts its own threads.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import (Callable, Dict, Iterable, Iterator, List, Optional, Tuple,
                    TypeVar)

import numpy as np
import torch

Item = TypeVar('Item')
Result = TypeVar('Result')


def chunk_workers() -> int:
    """Threads for chunked array work: torch's intra-op thread count."""
    return max(1, torch.get_num_threads())


_pools: Dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
_in_chunk = threading.local()


def _mark_chunk_thread() -> None:
    _in_chunk.active = True


def _forget_pools() -> None:
    """In a forked child: the parent's pool threads do not exist there."""
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pools)


def chunk_pool(workers: int) -> ThreadPoolExecutor:
    """The process's pool of ``workers`` chunk threads, started on first use."""
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=workers,
                                      thread_name_prefix='mmssl-chunks',
                                      initializer=_mark_chunk_thread)
            _pools[workers] = pool
        return pool


def map_chunks(function: Callable[[Item], Result], chunks: Iterable[Item],
               workers: Optional[int] = None) -> List[Result]:
    """``[function(chunk) for chunk in chunks]``, the chunks on ``workers`` threads.

    Results keep the order of the chunks. Each chunk's peak memory is paid once per
    thread, so keep chunks to a budget.

    Args:
        function: work on one chunk; must release the GIL to gain anything.
        chunks: the chunks.
        workers: threads; default :func:`chunk_workers`.
    """
    chunks = list(chunks)
    workers = min(chunk_workers() if workers is None else int(workers), len(chunks))
    if workers <= 1 or getattr(_in_chunk, 'active', False):
        return [function(chunk) for chunk in chunks]
    return list(chunk_pool(workers).map(function, chunks))


def row_chunks(work: np.ndarray, budget: float,
               at_least: int = 1) -> Iterator[Tuple[int, int]]:
    """Consecutive row ranges ``(start, stop)`` whose summed ``work`` stays within
    ``budget`` (or one row when a single row exceeds it), and at least ``at_least``
    of them when there are enough rows (so that every thread of :func:`map_chunks`
    has one)."""
    cumulative = np.cumsum(work)
    if len(work) and at_least > 1:
        budget = min(budget, max(cumulative[-1] / at_least, 1e-12))
    start = 0
    while start < len(work):
        base = cumulative[start - 1] if start else 0.0
        stop = int(np.searchsorted(cumulative, base + budget, side='right'))
        stop = max(stop, start + 1)
        yield start, stop
        start = stop
