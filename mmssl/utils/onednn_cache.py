"""oneDNN's primitive cache, sized for the many convolution shapes of a training step.

On the CPU, torch runs convolutions through oneDNN, which builds (JIT-compiles) a
primitive for every new combination of layer, input shape and pass (forward,
backward data, backward weights) and keeps the built ones in an LRU cache of 1,024
entries by default. A training step of the SSL detector uses many shapes: the
exemplar branch (paper Sec. 3.2) runs batches whose size is the step's number of
persons at every scale, a crop canvas whose height varies, and res5 on ``4 P``
crop RoIs. The 20 steps of ``benchmarks/bench_model_speed.py`` (SynthPS, R-18/16
model) need 1,039 distinct primitives: with 1,024 entries the cache evicts each
before its shape comes back, and 2,554 builds replaced 1,039 (``ONEDNN_VERBOSE=
profile_create``), about a millisecond each; with 8,192 entries every primitive was
built once (docs/benchmarks.md, "oneDNN's primitive cache").

oneDNN reads the capacity from the environment once, when it first builds a
primitive, so :func:`enlarge_primitive_cache` must run before the process's first
CPU convolution; ``import mmssl`` calls it. A capacity set by the user
(``ONEDNN_PRIMITIVE_CACHE_CAPACITY``, or oneDNN's older ``DNNL_`` name) is left as
it is.
"""
import os
from typing import Optional

#: Entries of oneDNN's primitive cache that :func:`enlarge_primitive_cache` asks for.
PRIMITIVE_CACHE_CAPACITY = 8192

#: The environment variable oneDNN reads (``DNNL_`` is its older prefix).
CAPACITY_VARIABLE = 'ONEDNN_PRIMITIVE_CACHE_CAPACITY'
LEGACY_CAPACITY_VARIABLE = 'DNNL_PRIMITIVE_CACHE_CAPACITY'


def primitive_cache_capacity() -> Optional[int]:
    """The capacity the environment asks oneDNN for (``ONEDNN_`` before its older
    ``DNNL_`` name), or None when neither is set.

    Raises:
        ValueError: a setting that is not a whole number.
    """
    for name in (CAPACITY_VARIABLE, LEGACY_CAPACITY_VARIABLE):
        value = os.environ.get(name, '').strip()
        if value:
            try:
                return int(value)
            except ValueError:
                raise ValueError(f'the environment variable {name}={value!r} is '
                                 'not a whole number of cache entries') from None
    return None


def enlarge_primitive_cache(capacity: int = PRIMITIVE_CACHE_CAPACITY) -> int:
    """Ask oneDNN for a primitive cache of ``capacity`` entries, unless the user
    set one.

    Takes effect only before oneDNN builds its first primitive in this process.

    Args:
        capacity: cache entries (``>= 0``; 0 disables oneDNN's cache).

    Returns:
        The capacity in the environment afterwards (the user's when set).

    Raises:
        ValueError: a negative ``capacity``, or a user setting that is not a
            whole number.
    """
    if capacity < 0:
        raise ValueError(f'capacity must be >= 0, got {capacity}')
    current = primitive_cache_capacity()
    if current is not None:
        return current
    os.environ[CAPACITY_VARIABLE] = str(int(capacity))
    return int(capacity)
