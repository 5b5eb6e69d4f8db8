"""Helpers for tests of mmssl and of projects built on it (as ``mmdet.testing``).

* ``write_tiny_prw_root(root, ...)`` and ``write_tiny_cuhk_root(root, ...)`` write
  small, fixed datasets (64 x 96 JPEGs) in the exact official file formats, which the
  readers, transforms, metric and models can load;
* ``render_tiny_synthps(root)`` renders a tiny SynthPS, and ``tiny_ssl_config`` shrinks
  a shipped config to a few-second CPU run on it (``config_path`` finds the shipped
  configs);
* :mod:`.person_batches` builds synthetic detector batches, :mod:`.footage` writes
  test videos.

What only mmssl's own suite uses (the session's tiny trained searcher, the script
loader, the distributed test's state dump) lives under ``tests/``.
"""
from .tiny_cuhk import (TINY_CUHK_QUERIES, TINY_CUHK_TEST, TINY_CUHK_TRAIN,
                        TINY_CUHK_TRAIN_IDS, write_tiny_cuhk_root)
from .tiny_prw import (TINY_PRW_QUERIES, TINY_PRW_TEST, TINY_PRW_TRAIN,
                       write_tiny_prw_root)
from .tiny_runs import (TINY_SYNTHPS, config_path, render_tiny_synthps,
                        tiny_ssl_config)

__all__ = [
    'write_tiny_prw_root', 'write_tiny_cuhk_root', 'TINY_PRW_TRAIN',
    'TINY_PRW_TEST', 'TINY_PRW_QUERIES', 'TINY_CUHK_TRAIN', 'TINY_CUHK_TEST',
    'TINY_CUHK_TRAIN_IDS', 'TINY_CUHK_QUERIES', 'TINY_SYNTHPS', 'config_path',
    'render_tiny_synthps', 'tiny_ssl_config'
]
