"""Split plans: every identity in two cameras and two frames, slots, passers-by."""
import numpy as np
import pytest

from mmssl.synthps.schedule import assign_cameras, plan_split


def test_cameras_take_turns_evenly():
    cameras = assign_cameras(np.random.default_rng(0), 23, 4)
    counts = np.bincount(cameras, minlength=5)[1:]
    assert counts.sum() == 23 and counts.max() - counts.min() <= 1


@pytest.mark.parametrize('num_ids, num_frames, num_cameras', [(60, 400, 6),
                                                              (8, 6, 2),
                                                              (30, 20, 5)])
def test_every_identity_in_two_cameras_and_two_frames(num_ids, num_frames,
                                                       num_cameras):
    rng = np.random.default_rng(num_ids)
    cameras = assign_cameras(rng, num_frames, num_cameras)
    ids = list(range(100, 100 + num_ids))
    plans = plan_split(rng, ids, cameras, unlabelled_fraction=0.15)
    assert len(plans) == num_frames
    seen_cameras, seen_frames = {}, {}
    for index, plan in enumerate(plans):
        assert plan.camera_id == cameras[index]
        assert len(set(plan.person_ids)) == len(plan.person_ids)
        assert set(plan.person_ids) <= set(ids)
        assert plan.person_ids or plan.num_unlabelled >= 1
        for pid in plan.person_ids:
            seen_cameras.setdefault(pid, set()).add(plan.camera_id)
            seen_frames.setdefault(pid, set()).add(index)
    assert set(seen_cameras) == set(ids)
    assert min(len(c) for c in seen_cameras.values()) >= 2
    assert min(len(f) for f in seen_frames.values()) >= 2


def test_default_sizes_fill_frames_and_spread_identities():
    rng = np.random.default_rng(0)
    cameras = assign_cameras(rng, 400, 6)
    plans = plan_split(rng, list(range(1, 61)), cameras, 0.15)
    labelled = np.array([len(p.person_ids) for p in plans])
    unlabelled = np.array([p.num_unlabelled for p in plans])
    assert 2 <= np.median(labelled) <= 6 and labelled.max() >= 7
    fraction = unlabelled.sum() / (labelled.sum() + unlabelled.sum())
    assert 0.11 < fraction < 0.19
    counts = np.bincount([pid for p in plans for pid in p.person_ids])[1:]
    assert counts.min() >= 8  # several frames per identity


def test_no_unlabelled_when_fraction_is_zero():
    rng = np.random.default_rng(1)
    plans = plan_split(rng, list(range(10)), assign_cameras(rng, 20, 3), 0.0)
    assert sum(p.num_unlabelled for p in plans) == 0


def test_bad_plans_are_refused():
    rng = np.random.default_rng(2)
    with pytest.raises(ValueError, match='2 cameras'):
        plan_split(rng, [1, 2], [1, 1, 1], 0.1)
    with pytest.raises(ValueError, match='unlabelled_fraction'):
        plan_split(rng, [1, 2], [1, 2], 0.6)
