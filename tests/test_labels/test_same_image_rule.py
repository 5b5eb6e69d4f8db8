import numpy as np
import pytest

from mmssl.labels.dense_reference import dense_separate_same_image
from mmssl.labels.same_image_rule import separate_same_image
from mmssl.labels.self_paced_dbscan import canonical_labels


def unit(*rows):
    x = np.array(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_hand_built():
    # cluster 0 = boxes 0, 1, 2, 3; boxes 1 and 2 share image 7, box 2 is closer
    # to the cluster centre; cluster 1 = boxes 4, 5 in one image, a tie.
    features = unit([1, 0, 0], [0.2, 1, 0], [1, 0.3, 0], [1, 0.1, 0], [0, 0, 1],
                    [0, 0, 1])
    labels = np.array([0, 0, 0, 0, 1, 1])
    images = np.array([1, 7, 7, 2, 3, 3])
    out = separate_same_image(labels, features, images)
    assert out[2] == 0 and out[0] == 0 and out[3] == 0
    assert out[1] not in (0, 1)  # lost its cluster: a new singleton
    assert out[4] == 1 and out[5] not in (0, 1)  # tie: the smaller index keeps
    assert len(set(out.tolist())) == 4


def test_nothing_to_do():
    labels = np.array([0, 0, 1])
    out = separate_same_image(labels, unit([1, 0], [1, 1], [0, 1]),
                              np.array([0, 1, 0]))
    np.testing.assert_array_equal(out, labels)


def test_equals_cgps_literal_loop():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((400, 16)).astype(np.float32)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    features[10] = features[11]  # exact tie inside one image and cluster
    labels = rng.integers(0, 30, 400)
    images = rng.integers(0, 60, 400)
    images[10] = images[11]
    labels[10] = labels[11]
    out = separate_same_image(labels, features, images)
    ref = dense_separate_same_image(labels, features, images)
    np.testing.assert_array_equal(canonical_labels(out), canonical_labels(ref))
    assert not np.array_equal(canonical_labels(out), canonical_labels(labels))


def test_errors():
    with pytest.raises(ValueError, match='non-negative'):
        separate_same_image(np.array([-1, 0]), unit([1, 0], [0, 1]),
                            np.array([0, 0]))
    with pytest.raises(ValueError, match='one entry per sample'):
        separate_same_image(np.array([0, 0]), unit([1, 0], [0, 1]),
                            np.array([0]))
