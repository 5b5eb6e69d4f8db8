"""Cameras: ground-plane geometry and per-camera illumination."""
import numpy as np

from mmssl.synthps.camera import (apply_illumination,
                                           sample_camera_styles)


def test_geometry_fits_the_person_height_range():
    styles = sample_camera_styles(np.random.default_rng(0), 6, 256, 384, 24,
                                  208)
    assert [s.camera_id for s in styles] == [1, 2, 3, 4, 5, 6]
    for style in styles:
        assert style.foot_y(208) <= 256 - 1
        assert style.foot_y(24) - 24 >= 0
        assert abs(style.person_height_at(style.foot_y(100)) - 100) < 1e-6
    assert len({s.horizon for s in styles}) == 6
    assert len({s.gain for s in styles}) == 6


def test_cameras_see_the_same_scene_differently():
    styles = sample_camera_styles(np.random.default_rng(1), 5, 64, 64, 8, 48)
    rng = np.random.default_rng(2)
    image = rng.uniform(40, 200, size=(64, 64, 3)).astype(np.float32)
    means = []
    for style in styles:
        seen = apply_illumination(image, style, np.random.default_rng(3))
        assert seen.dtype == np.uint8 and seen.shape == image.shape
        means.append(seen.reshape(-1, 3).mean(axis=0))
    means = np.array(means)
    # Colour casts and brightness differ: channel means spread over cameras.
    assert np.ptp(means, axis=0).max() > 15
    again = apply_illumination(image, styles[0], np.random.default_rng(3))
    first = apply_illumination(image, styles[0], np.random.default_rng(3))
    assert np.array_equal(again, first)
