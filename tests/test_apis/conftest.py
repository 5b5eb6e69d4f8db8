"""Fixtures of the API tests: the tiny SSL searcher trained once per session."""
import importlib.util
import sys
from pathlib import Path

import pytest

HELPER = Path(__file__).resolve().parent / 'tiny_searcher.py'


def load_tiny_searcher_module():
    """``tiny_searcher.py`` beside this file (importlib mode: no sys.path entry)."""
    name = 'mmssl_tests_tiny_searcher'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HELPER)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Each test with one torch thread (see ``single_torch_thread``)."""
    with load_tiny_searcher_module().single_torch_thread():
        yield


@pytest.fixture(scope='session')
def tiny_searcher(tmp_path_factory) -> dict:
    """Paths of the tiny run: ``config``, ``checkpoint``, ``data_root``."""
    helper = load_tiny_searcher_module()
    return helper.tiny_searcher_run(tmp_path_factory.getbasetemp() / 'tiny_searcher')


@pytest.fixture(scope='session')
def searcher(tiny_searcher):
    """The tiny searcher loaded with :func:`mmssl.apis.init_searcher`."""
    from mmssl.apis import init_searcher
    return init_searcher(tiny_searcher['config'], tiny_searcher['checkpoint'])


@pytest.fixture(scope='session')
def upscaled_searcher(tiny_searcher):
    """The tiny searcher with a test pipeline that resizes frames x1.5, so that
    boxes must be mapped into the resized image (scale factor != 1)."""
    from mmengine.config import Config
    from mmssl.apis import init_searcher
    cfg = Config.fromfile(tiny_searcher['config'])
    steps = cfg.test_dataloader.dataset.pipeline
    resize = next(s for s in steps if s['type'] == 'Resize')
    resize['scale'] = tuple(int(v * 1.5) for v in resize['scale'])
    return init_searcher(cfg, tiny_searcher['checkpoint'])


@pytest.fixture(scope='session')
def tiny_test_set(tiny_searcher):
    """The tiny SynthPS test split (records only, no pipeline)."""
    from mmssl.datasets import SynthPSDataset
    return SynthPSDataset(data_root=tiny_searcher['data_root'], split='test',
                          test_mode=True, pipeline=[])
