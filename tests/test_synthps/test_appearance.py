"""Identity appearances: distinct, shared attributes, look-alikes, deterministic."""
import dataclasses

import numpy as np
import pytest

from mmssl.synthps.appearance import (CLOTHING_PALETTE,
                                               PersonAppearance, look_alike,
                                               random_appearance,
                                               sample_identity_appearances)


def _differences(a: PersonAppearance, b: PersonAppearance) -> int:
    return sum(getattr(a, f.name) != getattr(b, f.name)
               for f in dataclasses.fields(PersonAppearance))


def test_identities_are_distinct_but_share_attributes():
    appearances = sample_identity_appearances(np.random.default_rng(0), 90)
    assert len(set(appearances)) == 90
    # Small palettes: many people wear the same top colour ...
    tops = [a.upper_colour for a in appearances]
    assert max(tops.count(c) for c in set(tops)) >= 9
    # ... and some pairs differ in one or two attributes only (look-alikes).
    close = sum(_differences(a, b) <= 2 for i, a in enumerate(appearances)
                for b in appearances[i + 1:])
    assert close >= 10
    for a in appearances:
        assert a.upper_colour != a.pattern_colour


def test_same_seed_same_identities():
    first = sample_identity_appearances(np.random.default_rng(5), 30)
    second = sample_identity_appearances(np.random.default_rng(5), 30)
    other = sample_identity_appearances(np.random.default_rng(6), 30)
    assert first == second
    assert first != other


def test_look_alike_changes_one_or_two_attributes():
    rng = np.random.default_rng(1)
    for _ in range(50):
        model = random_appearance(rng)
        copy = look_alike(rng, model)
        # pattern colour may follow a changed top colour
        assert _differences(model, copy) <= 3
        assert copy.upper_colour != copy.pattern_colour


def test_colours_resolve_from_the_palettes():
    appearance = random_appearance(np.random.default_rng(2))
    colours = appearance.colours()
    assert colours['upper'] == CLOTHING_PALETTE[appearance.upper_colour]
    assert set(colours) >= {'upper', 'pattern', 'lower', 'hair', 'skin'}


def test_exhausted_attribute_space_raises(monkeypatch):
    from mmssl.synthps import appearance as module
    constant = random_appearance(np.random.default_rng(3))
    monkeypatch.setattr(module, 'random_appearance', lambda rng: constant)
    with pytest.raises(RuntimeError, match='distinct'):
        module.sample_identity_appearances(np.random.default_rng(0), 2,
                                           look_alike_fraction=0.0,
                                           max_tries=5)
