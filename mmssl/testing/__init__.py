"""Test helpers: tiny dataset roots written in the exact official file formats.

``write_tiny_prw_root(root, ...)`` and ``write_tiny_cuhk_root(root, ...)`` write
small, fixed datasets (64 x 96 JPEGs) that the readers, transforms, metric and
model tests of the whole project can load.
"""
from .tiny_cuhk import (TINY_CUHK_QUERIES, TINY_CUHK_TEST, TINY_CUHK_TRAIN,
                        TINY_CUHK_TRAIN_IDS, write_tiny_cuhk_root)
from .tiny_prw import (TINY_PRW_QUERIES, TINY_PRW_TEST, TINY_PRW_TRAIN,
                       write_tiny_prw_root)

__all__ = [
    'write_tiny_prw_root', 'write_tiny_cuhk_root', 'TINY_PRW_TRAIN',
    'TINY_PRW_TEST', 'TINY_PRW_QUERIES', 'TINY_CUHK_TRAIN', 'TINY_CUHK_TEST',
    'TINY_CUHK_TRAIN_IDS', 'TINY_CUHK_QUERIES'
]
from .state_dump_hook import DumpTrainingStateHook
from .tiny_runs import (TINY_SYNTHPS, config_path, render_tiny_synthps,
                        tiny_ssl_config)

__all__ += [
    'DumpTrainingStateHook', 'TINY_SYNTHPS', 'config_path', 'render_tiny_synthps', 'tiny_ssl_config'
]
