"""mmssl: Self-similarity driven Scale-invariant Learning for weakly supervised person
search, as an MMDetection 3.x plugin.

Importing :mod:`mmssl` registers every component (datasets, transforms, models, losses,
hooks, metrics) in MMDetection's registries, so a config with ``default_scope='mmdet'``
and ``custom_imports=dict(imports=['mmssl'])`` can use them by bare type name.
"""
from .version import __version__  # noqa: F401
from . import datasets, engine, evaluation, models  # noqa: F401,E402
from . import apis, visualization  # noqa: F401,E402

__all__ = [
    '__version__', 'apis', 'datasets', 'engine', 'evaluation', 'models',
    'visualization'
]
