"""Person drawing: size, mask, parts, patterns survive large and vanish small."""
import numpy as np
import pytest

from mmssl.synthps.appearance import PersonAppearance
from mmssl.synthps.person import render_person
from mmssl.synthps.person_labels import (BAG, HAIR, SKIN, UPPER,
                                         draw_person_labels)
from mmssl.synthps.pose import Pose, random_pose

STRIPED = PersonAppearance(
    upper_colour=0, upper_pattern='hstripes', pattern_colour=4, sleeves='long',
    lower_colour=1, lower_style='trousers', hair_colour=0, hair_length='short',
    skin_tone=0, shoe_colour=0, bag='none', bag_colour=0, hat='none',
    hat_colour=0, build=1.08)
PLAIN = PersonAppearance(**dict(STRIPED.__dict__, upper_pattern='plain'))
FRONT = Pose(back_view=False, mirrored=False, arm_spread=(6, 6),
             leg_spread=(4, 4), knee_bend=(0, 0), lean=0.0)


def _torso_texture(appearance, height):
    """Luminance spread in the middle of the torso, after rendering."""
    sprite = render_person(appearance, height, np.random.default_rng(0), FRONT)
    colour = sprite.colour / np.maximum(sprite.alpha[..., None], 1e-3)
    rows = slice(int(0.25 * sprite.height), int(0.42 * sprite.height) + 1)
    cols = slice(int(0.4 * sprite.width), int(0.6 * sprite.width) + 1)
    return float(colour[rows, cols].mean(axis=2).std())


@pytest.mark.parametrize('height', [12, 24, 57, 130, 208])
def test_person_has_the_requested_height(height):
    sprite = render_person(STRIPED, height, np.random.default_rng(height))
    mask = sprite.mask()
    rows = np.flatnonzero(mask.any(axis=1))
    assert abs((rows[-1] - rows[0] + 1) - height) <= 1
    assert 0.15 * height < sprite.width < 0.8 * height
    assert sprite.colour.shape == (sprite.height, sprite.width, 3)
    assert 0.0 <= sprite.alpha.min() and sprite.alpha.max() <= 1.0


def test_stripes_survive_at_large_scale_and_vanish_at_small_scale():
    large_striped = _torso_texture(STRIPED, 200)
    large_plain = _torso_texture(PLAIN, 200)
    small_striped = _torso_texture(STRIPED, 24)
    small_plain = _torso_texture(PLAIN, 24)
    assert large_striped > 3 * large_plain + 20
    assert small_striped < large_striped / 3
    assert abs(small_striped - small_plain) < 12


def test_label_map_follows_the_attributes():
    back = Pose(**dict(FRONT.__dict__, back_view=True))
    bagged = PersonAppearance(**dict(STRIPED.__dict__, bag='backpack',
                                     hair_length='long'))
    front_labels = draw_person_labels(bagged, FRONT, 256)
    back_labels = draw_person_labels(bagged, back, 256)
    # From behind the backpack covers the torso and the hair covers the head.
    assert (back_labels == BAG).sum() > 2 * (front_labels == BAG).sum()
    assert (back_labels == HAIR).sum() > (front_labels == HAIR).sum()
    assert (front_labels == SKIN).sum() > (back_labels == SKIN).sum()
    short = PersonAppearance(**dict(STRIPED.__dict__, sleeves='short'))
    assert (draw_person_labels(short, FRONT, 256) == UPPER).sum() < (
        draw_person_labels(STRIPED, FRONT, 256) == UPPER).sum()


def test_poses_vary_and_are_reproducible():
    poses = [random_pose(np.random.default_rng(i)) for i in range(20)]
    assert len(set(poses)) == 20
    assert {p.back_view for p in poses} == {True, False}
    a = render_person(STRIPED, 80, np.random.default_rng(7))
    b = render_person(STRIPED, 80, np.random.default_rng(7))
    assert np.array_equal(a.colour, b.colour)
    assert np.array_equal(a.alpha, b.alpha)


def test_tiny_height_is_refused():
    with pytest.raises(ValueError, match='height'):
        render_person(STRIPED, 3, np.random.default_rng(0))
