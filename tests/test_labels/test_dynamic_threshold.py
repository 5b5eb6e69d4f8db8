import math

import pytest

from mmssl.labels.dynamic_threshold import dynamic_threshold


@pytest.mark.parametrize('epoch, expected', [
    (0, 0.7),
    (1, 0.6 + 0.1 * math.exp(-0.1)),
    (10, 0.6 + 0.1 * math.exp(-1.0)),
    (25, 0.6 + 0.1 * math.exp(-2.5)),
])
def test_paper_defaults(epoch, expected):
    assert dynamic_threshold(epoch) == pytest.approx(expected, abs=1e-12)


def test_decays_toward_t_s():
    values = [dynamic_threshold(e) for e in range(30)]
    assert all(a > b for a, b in zip(values, values[1:]))
    assert values[-1] > 0.6
    assert dynamic_threshold(1000) == pytest.approx(0.6)


def test_custom_factors():
    assert dynamic_threshold(2, t_s=0.5, alpha=0.2, beta=-0.5) == pytest.approx(
        0.5 + 0.2 * math.exp(-1.0))


@pytest.mark.parametrize('epoch', [-1, float('nan'), float('inf')])
def test_bad_epoch(epoch):
    with pytest.raises(ValueError, match='epoch'):
        dynamic_threshold(epoch)
