"""plot_pseudo_label_quality (Fig. 4), gallery_size_curve / plot_gallery_size (Fig. 6)."""
import numpy as np
import pytest

from mmssl.visualization import (gallery_size_curve, plot_gallery_size,
                                 plot_pseudo_label_quality)


def stats(epoch, shift=0.0):
    return dict(epoch=epoch, cluster_precision=0.5 + shift, cluster_recall=0.4 + shift,
                multilabel_precision=0.7 + shift, multilabel_recall=0.6 + shift)


def test_pseudo_label_quality_lines():
    figure = plot_pseudo_label_quality({'ssl': [stats(1), stats(2, 0.1)]})
    precision, recall = figure.axes[:2]
    assert precision.get_ylabel() == 'pairwise precision'
    lines = {line.get_label(): line for line in precision.get_lines()}
    assert set(lines) == {'clusters (DBSCAN)', 'dynamic multi-labels'}
    np.testing.assert_allclose(lines['dynamic multi-labels'].get_ydata(), [0.7, 0.8])
    np.testing.assert_allclose(lines['clusters (DBSCAN)'].get_xdata(), [1, 2])
    assert lines['clusters (DBSCAN)'].get_linestyle() == '--'
    recall_lines = {line.get_label(): line for line in recall.get_lines()}
    np.testing.assert_allclose(recall_lines['clusters (DBSCAN)'].get_ydata(), [0.4, 0.5])


def test_pseudo_label_quality_several_runs_and_missing_figures():
    runs = {'a': [stats(1)], 'b': [dict(epoch=1, clusters=3)] + [stats(2)]}
    figure = plot_pseudo_label_quality(runs)
    labels = sorted(line.get_label() for line in figure.axes[0].get_lines())
    assert labels == ['a: clusters (DBSCAN)', 'a: dynamic multi-labels',
                      'b: clusters (DBSCAN)', 'b: dynamic multi-labels']
    with pytest.raises(ValueError, match='no cluster/multilabel precision'):
        plot_pseudo_label_quality({'a': [dict(epoch=1, clusters=3)]})


def test_gallery_size_curve():
    record = {'search/mAP': 0.9, 'search/top1': 0.95, 'search/gallery_50/mAP': 0.92,
              'search/gallery_500/mAP': 0.8, 'search/gallery_500/top1': 0.85,
              'search/full/mAP': 0.7, 'other/gallery_50/mAP': 0.1, 'step': 3}
    assert gallery_size_curve(record) == {50: 0.92, 100: 0.9, 500: 0.8}
    assert list(gallery_size_curve(record)) == [50, 100, 500]
    assert gallery_size_curve(record, 'top1') == {100: 0.95, 500: 0.85}
    assert gallery_size_curve(record, default_size=None) == {50: 0.92, 500: 0.8}
    # a size with its own key wins over the default protocol
    assert gallery_size_curve(dict(record, **{'search/gallery_100/mAP': 0.5}))[100] == 0.5
    assert gallery_size_curve(record, prefix='other', default_size=None) == {50: 0.1}


def test_plot_gallery_size():
    figure = plot_gallery_size({'ssl': {50: 0.9, 100: 0.87, 4000: 0.6},
                                'paper': {50: 90.0, 100: 87.4}}, styles=['-', '--'])
    axis = figure.axes[0]
    ssl, paper = axis.get_lines()
    np.testing.assert_allclose(ssl.get_ydata(), [90, 87, 60])  # fractions in %
    np.testing.assert_allclose(paper.get_ydata(), [90, 87.4])  # already in %
    assert paper.get_linestyle() == '--' and axis.get_xscale() == 'log'
    assert [t.get_text() for t in axis.get_xticklabels()] == ['50', '100', '4000']
    with pytest.raises(ValueError, match='no gallery_<N> figures'):
        plot_gallery_size({'empty': {}})
