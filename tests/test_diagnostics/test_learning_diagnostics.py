"""neighbour_identity_precision and the colour-histogram floor (learning diagnostics)."""
import cv2
import numpy as np
import pytest

from mmssl.diagnostics import (crop_histograms, hsv_histogram,
                               neighbour_identity_precision)


def loop_precision(features, person_ids, image_ids, k):
    """A plain transcription of the definition."""
    precisions = []
    for i in range(len(features)):
        if person_ids[i] < 0:
            continue
        others = [j for j in range(len(features))
                  if person_ids[j] >= 0 and image_ids[j] != image_ids[i]]
        if not others:
            continue
        others.sort(key=lambda j: -float(features[i] @ features[j]))
        top = others[:k]
        precisions.append(np.mean([person_ids[j] == person_ids[i] for j in top]))
    return float(np.mean(precisions))


def test_matches_a_loop_and_ignores_same_image_and_unlabelled_boxes():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(40, 8)).astype(np.float32)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    pids = rng.integers(-1, 6, size=40)
    images = rng.integers(0, 12, size=40)
    for k in (1, 3):
        assert neighbour_identity_precision(feats, pids, images, k) == \
            pytest.approx(loop_precision(feats, pids, images, k), abs=1e-6)


def test_same_image_twins_do_not_count():
    # each box's exact twin lies in its own image: it must be skipped
    base = np.eye(4, dtype=np.float32)
    feats = np.concatenate([base, base, base * 0.9 + 0.1])
    pids = np.array([0, 1, 2, 3, 0, 1, 2, 3, 3, 2, 1, 0])
    images = np.array([0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7])
    # boxes 0..7 find their twin in their own image, skip it, and meet the
    # third copy (whose identities are reversed): precision 0 for them
    value = neighbour_identity_precision(feats, pids, images, k=1)
    assert value == pytest.approx(loop_precision(feats, pids, images, 1))
    assert value < 0.5
    assert np.isnan(neighbour_identity_precision(feats[:2], [0, -1], [0, 1]))
    with pytest.raises(ValueError, match='same N'):
        neighbour_identity_precision(feats, pids[:3], images)


def test_colour_histograms_tell_colours_apart(tmp_path):
    red = np.zeros((40, 20, 3), np.uint8)
    red[..., 2] = 220
    blue = np.zeros((40, 20, 3), np.uint8)
    blue[..., 0] = 220
    h_red, h_blue = hsv_histogram(red), hsv_histogram(blue)
    assert h_red.shape == (8 * 8 * 4, )
    assert np.linalg.norm(h_red) == pytest.approx(1.0)
    assert float(h_red @ h_blue) == pytest.approx(0.0)
    scene = np.zeros((60, 80, 3), np.uint8)
    scene[10:50, 5:25] = red
    scene[10:50, 50:70] = blue
    path = str(tmp_path / 'scene.png')
    cv2.imwrite(path, scene)
    feats = crop_histograms([path], np.array([[5, 10, 25, 50], [50, 10, 70, 50]]),
                            np.array([0, 0]))
    np.testing.assert_allclose(feats, np.stack([h_red, h_blue]), atol=1e-6)
    with pytest.raises(OSError, match='missing.png'):
        crop_histograms([str(tmp_path / 'missing.png')], np.zeros((1, 4)), [0])
