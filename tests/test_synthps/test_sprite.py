"""Sprites: premultiplied colour, tight crop, resizing and clipped pasting."""
import numpy as np
import pytest

from mmssl.synthps.sprite import Sprite, paste_sprite


def _square(value=200, size=10):
    image = np.zeros((20, 20, 3), np.uint8)
    cover = np.zeros((20, 20), bool)
    image[5:5 + size, 4:4 + size] = value
    cover[5:5 + size, 4:4 + size] = True
    return Sprite.from_drawing(image, cover)


def test_from_drawing_crops_and_premultiplies():
    sprite = _square()
    assert (sprite.height, sprite.width) == (10, 10)
    assert np.all(sprite.colour == 200) and np.all(sprite.alpha == 1)
    with pytest.raises(ValueError, match='empty'):
        Sprite.from_drawing(np.zeros((4, 4, 3), np.uint8),
                            np.zeros((4, 4), bool))


def test_shrinking_keeps_colour_without_dark_fringe():
    small = _square(size=16).resized(4)
    assert (small.height, small.width) == (4, 4)
    colour = small.colour / np.maximum(small.alpha[..., None], 1e-6)
    assert np.allclose(colour[small.alpha > 0.05], 200, atol=1)


def test_paste_clips_at_the_border_and_blends():
    canvas = np.full((8, 8, 3), 50, np.float32)
    sprite = _square(size=4)
    sprite.alpha[0, 0] = 0.5
    sprite.colour[0, 0] = 100  # premultiplied 200 * 0.5
    windows = paste_sprite(canvas, sprite, -1, -2)
    assert windows == ((slice(0, 2), slice(0, 3)), (slice(2, 4), slice(1, 4)))
    assert np.all(canvas[0:2, 0:3] == 200) and np.all(canvas[2:, :] == 50)
    canvas = np.full((8, 8, 3), 50, np.float32)
    paste_sprite(canvas, sprite, 0, 0)
    assert np.allclose(canvas[0, 0], 0.5 * 50 + 100)
    assert paste_sprite(canvas, sprite, 8, 0) is None
