"""tsne_project and plot_identity_tsne (Fig. 7 markers and colours)."""
import numpy as np
import pytest

from mmssl.visualization import SCALE_MARKERS, plot_identity_tsne, tsne_project


def clustered(num_ids=3, per_id=6, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_ids, dim)) * 10
    feats = np.repeat(centres, per_id, axis=0) + rng.normal(size=(num_ids * per_id, dim))
    return feats, np.repeat(np.arange(num_ids), per_id)


def test_tsne_separates_clear_clusters_and_is_seeded():
    feats, ids = clustered()
    points = tsne_project(feats, perplexity=5, seed=1)
    assert points.shape == (18, 2) and points.dtype == np.float32
    np.testing.assert_allclose(points, tsne_project(feats, perplexity=5, seed=1))
    # each point's nearest neighbour on the map is of its own identity
    dist = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(dist, np.inf)
    assert (ids[dist.argmin(axis=1)] == ids).all()


def test_tsne_small_inputs():
    assert tsne_project(np.eye(3), perplexity=30).shape == (3, 2)  # perplexity lowered
    with pytest.raises(ValueError, match='at least 2 features'):
        tsne_project(np.ones((1, 4)))


def test_markers_follow_scale_classes_and_colours_identities():
    points = np.arange(12, dtype=float).reshape(6, 2)
    ids = np.array([1, 1, 1, 2, 2, 2])
    # areas: 100 (small), 3600 (medium: the bound), 50000 (large)
    boxes = np.array([[0, 0, 10, 10], [0, 0, 60, 60], [0, 0, 100, 500]] * 2)
    figure = plot_identity_tsne(points, ids, boxes)
    axis = figure.axes[0]
    assert len(axis.collections) == 6  # 2 identities x 3 scale classes
    offsets = [tuple(c.get_offsets()[0]) for c in axis.collections]
    assert offsets == [tuple(p) for p in points]
    colours = [tuple(c.get_facecolor()[0]) if c.get_facecolor().size else
               tuple(c.get_edgecolor()[0]) for c in axis.collections]
    assert len(set(colours[:3])) == 1 and len(set(colours[3:])) == 1
    assert colours[0] != colours[3]
    legend = [t.get_text() for t in axis.get_legend().get_texts()]
    assert legend[0].startswith('small (< 3,600') and legend[2].startswith('large (> 45,300')
    assert [h.get_marker() for h in axis.get_legend().legend_handles] == list(SCALE_MARKERS)
    assert '6 boxes, 2 identities' in axis.get_title()


def test_length_mismatch():
    with pytest.raises(ValueError, match='5 points, 6 ids'):
        plot_identity_tsne(np.zeros((5, 2)), np.zeros(6), np.zeros((6, 4)))
