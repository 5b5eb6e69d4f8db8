"""Shared fixtures: one small SynthPS root rendered once per test session."""
import pytest

from mmssl.synthps import render_synthps

#: Small but complete: two splits, three cameras, unlabelled persons, queries.
SMALL = dict(seed=3, num_train_ids=6, num_test_ids=4, num_train_frames=10,
             num_test_frames=8, num_cameras=3, height=128, width=192,
             min_person_height=12, max_person_height=100,
             unlabelled_fraction=0.2, progress=False)


@pytest.fixture(scope='session')
def small_parameters():
    """The parameters of the small root."""
    return dict(SMALL)


@pytest.fixture(scope='session')
def small_root(tmp_path_factory):
    """``(root, statistics)`` of the small root, rendered once."""
    root = tmp_path_factory.mktemp('synthps') / 'small'
    statistics = render_synthps(root, **SMALL)
    return root, statistics
