"""Fixtures of the API tests, on the session's tiny searcher (tests/conftest.py)."""
import pytest

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
