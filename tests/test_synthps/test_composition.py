"""Frame composition: depth order, occlusion in masks, boxes, retries."""
import numpy as np
import pytest

from mmssl.synthps.appearance import sample_identity_appearances
from mmssl.synthps.camera import sample_camera_styles
from mmssl.synthps.composition import (ComposedFrame, compose_frame,
                                                paint_in_depth_order)
from mmssl.synthps.scene import PlacedSprite, build_camera_scene
from mmssl.synthps.sprite import Sprite


def _block(value, height=6, width=4):
    return Sprite(colour=np.full((height, width, 3), value, np.float32),
                  alpha=np.ones((height, width), np.float32))


def test_nearer_person_wins_and_objects_hide_persons():
    canvas = np.zeros((12, 12, 3), np.float32)
    far = PlacedSprite(_block(10), left=2, top=2, depth=7.0, person=0)
    near = PlacedSprite(_block(20), left=4, top=3, depth=8.0, person=1)
    pole = PlacedSprite(_block(30, height=12, width=1), left=3, top=0,
                        depth=9.0)
    # Given far-to-near order scrambled: the map must follow depth, not order.
    instance_map = paint_in_depth_order(canvas, [pole, near, far])
    assert instance_map[2, 2] == 1           # far person, uncovered
    assert instance_map[4, 5] == 2           # overlap: the nearer one
    assert instance_map[4, 3] == 0           # the pole hides the far person
    assert canvas[4, 3, 0] == 30 and canvas[4, 5, 0] == 20
    assert set(np.unique(instance_map)) == {0, 1, 2}


def test_too_many_persons_for_an_8bit_map():
    with pytest.raises(ValueError, match='254'):
        paint_in_depth_order(np.zeros((2, 2, 3), np.float32),
                             [PlacedSprite(_block(1), 0, 0, 1.0, person=255)])


@pytest.fixture(scope='module')
def scene():
    style = sample_camera_styles(np.random.default_rng(0), 1, 128, 192, 12,
                                 100)[0]
    return build_camera_scene(style, np.random.default_rng(1))


def test_composed_frame_is_consistent(scene):
    people = sample_identity_appearances(np.random.default_rng(2), 7)
    frame = compose_frame(scene, people, np.random.default_rng(3), 12, 100)
    assert isinstance(frame, ComposedFrame)
    assert frame.image.shape == (128, 192, 3) and frame.image.dtype == np.uint8
    assert frame.instance_map.shape == (128, 192)
    assert frame.boxes.shape == (7, 4)
    for k, (x, y, w, h) in enumerate(frame.boxes):
        ys, xs = np.nonzero(frame.instance_map == k + 1)
        assert ys.size > 0
        assert xs.min() >= x and xs.max() < x + w
        assert ys.min() >= y and ys.max() < y + h
        assert 0 < frame.visible_fractions[k] <= 1
        assert frame.inside[k] == (x >= 0 and y >= 0 and x + w <= 192
                                   and y + h <= 128)
        # The ground plane: larger persons stand lower in the frame.
    bottoms = frame.boxes[:, 1] + frame.boxes[:, 3]
    assert np.corrcoef(frame.boxes[:, 3], bottoms)[0, 1] > 0.8


def test_composition_is_reproducible(scene):
    people = sample_identity_appearances(np.random.default_rng(4), 4)
    a = compose_frame(scene, people, np.random.default_rng(5), 12, 100)
    b = compose_frame(scene, people, np.random.default_rng(5), 12, 100)
    c = compose_frame(scene, people, np.random.default_rng(6), 12, 100)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.instance_map, b.instance_map)
    assert not np.array_equal(a.boxes, c.boxes)


def test_occlusion_happens_over_many_frames(scene):
    people = sample_identity_appearances(np.random.default_rng(7), 6)
    hidden = []
    for seed in range(12):
        frame = compose_frame(scene, people, np.random.default_rng(seed), 12,
                              100)
        hidden.extend(frame.visible_fractions.tolist())
    hidden = np.array(hidden)
    assert (hidden < 0.95).mean() > 0.1   # partly hidden persons are common
    assert hidden.min() >= 0.25 * 0.5     # nobody disappears
