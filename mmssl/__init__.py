"""mmssl: Self-similarity driven Scale-invariant Learning for weakly supervised person
search, as an MMDetection 3.x plugin.

Importing :mod:`mmssl` registers every component (datasets, transforms, models, losses,
hooks, metrics) in MMDetection's registries, so a config with ``default_scope='mmdet'``
and ``custom_imports=dict(imports=['mmssl'])`` can use them by bare type name.

It also sizes oneDNN's primitive cache for the many convolution shapes of a CPU
training step (:mod:`mmssl.utils.onednn_cache`), unless the user set it.
"""
from .version import __version__  # noqa: F401
from .utils.onednn_cache import enlarge_primitive_cache

enlarge_primitive_cache()  # before any convolution of this process runs
from . import datasets, engine, evaluation, models  # noqa: F401,E402
from . import apis, visualization  # noqa: F401,E402

__all__ = [
    '__version__', 'apis', 'datasets', 'engine', 'evaluation', 'models',
    'visualization'
]
