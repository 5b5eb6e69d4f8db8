"""oneDNN's primitive cache capacity (mmssl.utils.onednn_cache)."""
import os
import subprocess
import sys

import pytest

from mmssl.utils import onednn_cache
from mmssl.utils.onednn_cache import (CAPACITY_VARIABLE, LEGACY_CAPACITY_VARIABLE,
                                      PRIMITIVE_CACHE_CAPACITY,
                                      enlarge_primitive_cache,
                                      primitive_cache_capacity)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _clean_environment():
    env = dict(os.environ)
    env.pop(CAPACITY_VARIABLE, None)
    env.pop(LEGACY_CAPACITY_VARIABLE, None)
    return env


@pytest.fixture
def no_capacity(monkeypatch):
    monkeypatch.delenv(CAPACITY_VARIABLE, raising=False)
    monkeypatch.delenv(LEGACY_CAPACITY_VARIABLE, raising=False)


def test_sets_the_capacity_when_unset(no_capacity):
    assert primitive_cache_capacity() is None
    assert enlarge_primitive_cache(4096) == 4096
    assert primitive_cache_capacity() == 4096
    assert os.environ[CAPACITY_VARIABLE] == '4096'


@pytest.mark.parametrize('name', [CAPACITY_VARIABLE, LEGACY_CAPACITY_VARIABLE])
def test_keeps_the_users_setting(no_capacity, monkeypatch, name):
    monkeypatch.setenv(name, '300')
    assert primitive_cache_capacity() == 300
    assert enlarge_primitive_cache() == 300
    assert os.environ.get(CAPACITY_VARIABLE, '300') == '300'


def test_bad_settings(no_capacity, monkeypatch):
    with pytest.raises(ValueError, match='>= 0'):
        enlarge_primitive_cache(-1)
    monkeypatch.setenv(CAPACITY_VARIABLE, 'lots')
    with pytest.raises(ValueError, match=f"{CAPACITY_VARIABLE}='lots'"):
        enlarge_primitive_cache()


def test_import_mmssl_sets_the_default():
    code = ('import os, mmssl; '
            f'print(os.environ["{CAPACITY_VARIABLE}"])')
    out = subprocess.run([sys.executable, '-c', code], env=_clean_environment(),
                         cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == str(PRIMITIVE_CACHE_CAPACITY)


# Convolutions of 24 shapes (a batch of 2, which torch runs through oneDNN), run twice: oneDNN builds each primitive once when the
# cache holds them all, and again in the second pass when it does not.
# The module is loaded from its file: ``import mmssl`` would set the default first.
_CONVOLUTIONS = '''
import importlib.util, sys
spec = importlib.util.spec_from_file_location('onednn_cache', sys.argv[2])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.enlarge_primitive_cache(int(sys.argv[1]))
import torch
torch.set_num_threads(1)
conv = torch.nn.Conv2d(3, 8, 3, padding=1).to(memory_format=torch.channels_last)
with torch.no_grad():
    for _ in range(2):
        for size in range(8, 32):
            x = torch.rand(2, 3, size, size).contiguous(
                memory_format=torch.channels_last)
            conv(x)
'''


def _primitive_builds(capacity: int) -> int:
    env = _clean_environment()
    env['ONEDNN_VERBOSE'] = 'profile_create'
    out = subprocess.run([sys.executable, '-c', _CONVOLUTIONS, str(capacity),
                          onednn_cache.__file__],
                         env=env, cwd=REPO, capture_output=True, text=True,
                         check=True)
    return sum('create:cache_miss' in line for line in out.stdout.splitlines())


def test_capacity_reaches_onednn():
    import torch
    if not torch.backends.mkldnn.is_available():
        pytest.skip('torch without oneDNN')
    enough, too_few = _primitive_builds(1024), _primitive_builds(4)
    if enough == 0:
        pytest.skip('these convolutions do not run through oneDNN here')
    # every shape is built again in the second pass with too small a cache
    assert too_few >= enough + enough // 2
