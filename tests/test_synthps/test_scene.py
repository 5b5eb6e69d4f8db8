"""Static camera scenes and objects: clutter, ground contact, sizes."""
import numpy as np
import pytest

from mmssl.synthps.camera import sample_camera_styles
from mmssl.synthps.objects import OBJECT_KINDS, draw_object
from mmssl.synthps.scene import (build_camera_scene, place_object,
                                          render_background)


@pytest.fixture(scope='module')
def style():
    return sample_camera_styles(np.random.default_rng(0), 2, 128, 192, 12,
                                100)[0]


def test_background_is_cluttered(style):
    background = render_background(style, np.random.default_rng(1))
    assert background.shape == (128, 192, 3)
    assert background.dtype == np.float32
    assert 0 <= background.min() and background.max() <= 255
    # Texture everywhere: strong local gradients in most 16x16 cells.
    gray = background.mean(axis=2)
    gradient = np.abs(np.diff(gray, axis=1))
    cells = gradient[:128, :176].reshape(8, 16, 11, 16).max(axis=(1, 3))
    assert (cells > 10).mean() > 0.7
    other = render_background(style, np.random.default_rng(2))
    assert not np.array_equal(background, other)


def test_scene_objects_stand_on_the_ground(style):
    scene = build_camera_scene(style, np.random.default_rng(3))
    assert scene.fixed_objects
    for item in scene.fixed_objects:
        assert item.depth > style.horizon
        assert item.top + item.sprite.height - 1 == int(round(item.depth))
        assert item.person == -1


@pytest.mark.parametrize('kind', OBJECT_KINDS)
def test_every_object_kind_draws_at_its_height(kind):
    sprite = draw_object(kind, 40, np.random.default_rng(4))
    assert sprite.height == 40
    assert sprite.mask()[-1].any()  # touches the ground
    assert sprite.mask().mean() > 0.05


def test_objects_follow_the_perspective(style):
    rng = np.random.default_rng(5)
    near = place_object(style, 'bin', 96, style.height - 2, rng)
    far = place_object(style, 'bin', 96, style.horizon + 10, rng)
    assert near.sprite.height > 2 * far.sprite.height


def test_unknown_object_kind():
    with pytest.raises(ValueError, match='unknown object kind'):
        draw_object('car', 20, np.random.default_rng(0))
