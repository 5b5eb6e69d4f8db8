"""Fixtures of the bad-input tests: a fresh tiny root per test, captured logs.

Every test damages its own copy of a tiny root (``mmssl.testing``) under
``tmp_path`` and checks what the readers, the transforms or the training loop do
(``docs/bad_input.md`` lists the cases).
"""
from typing import List

import pytest
from mmengine.registry import init_default_scope

from mmssl.testing import write_tiny_cuhk_root, write_tiny_prw_root


@pytest.fixture(autouse=True)
def mmdet_scope():
    """Build transforms by their mmdet names, as a config does."""
    init_default_scope('mmdet')


@pytest.fixture
def prw_root(tmp_path) -> str:
    """A tiny PRW root with masks, owned by one test."""
    return write_tiny_prw_root(str(tmp_path / 'prw'))['root']


@pytest.fixture
def cuhk_root(tmp_path) -> str:
    """A tiny CUHK-SYSU root (TestG50, TestG100) with masks, owned by one test."""
    return write_tiny_cuhk_root(str(tmp_path / 'cuhk'))['root']


@pytest.fixture
def captured_logs(monkeypatch) -> List[str]:
    """Messages the dataset modules send to ``print_log``."""
    from mmssl.datasets import cuhk_sysu, json_dataset, person_search_dataset
    messages: List[str] = []

    def fake_print_log(msg, *args, **kwargs):
        messages.append(str(msg))

    for module in (person_search_dataset, cuhk_sysu, json_dataset):
        if hasattr(module, 'print_log'):
            monkeypatch.setattr(module, 'print_log', fake_print_log)
    return messages


def _error_text(err: BaseException) -> str:
    return '\n'.join([str(err)] + list(getattr(err, '__notes__', [])))


@pytest.fixture
def error_text():
    """``error_text(err)``: an exception's message and notes, as a traceback
    prints them."""
    return _error_text
