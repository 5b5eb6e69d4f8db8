"""Fixtures of the visualization tests: the tiny searcher of tests/test_apis."""
import importlib.util
import sys
from pathlib import Path

import pytest

HELPER = Path(__file__).resolve().parents[1] / 'test_apis' / 'tiny_searcher.py'


def load_tiny_searcher_module():
    """``tests/test_apis/tiny_searcher.py`` (importlib mode: no sys.path entry)."""
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
    """Paths of the tiny run shared with the API and tool tests."""
    helper = load_tiny_searcher_module()
    return helper.tiny_searcher_run(tmp_path_factory.getbasetemp() / 'tiny_searcher')
