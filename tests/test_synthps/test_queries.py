"""Query selection: several per identity, good boxes first, distinct frames and cameras."""
import numpy as np
import pytest

from mmssl.synthps.queries import Sighting, select_queries


def _sighting(pid, frame, camera, visible=0.9, inside=True):
    return Sighting(person_id=pid, frame_name=f'c{camera}s1_{frame:06d}',
                    camera_id=camera, box=(1.0, 2.0, 10.0, 30.0),
                    visible_fraction=visible, inside=inside)


def test_queries_cover_every_identity_and_prefer_good_boxes():
    sightings = []
    for pid in range(1, 21):
        sightings.append(_sighting(pid, 10 * pid, 1, visible=0.9))
        sightings.append(_sighting(pid, 10 * pid + 1, 1, visible=0.3))
        sightings.append(_sighting(pid, 10 * pid + 2, 2, visible=0.95,
                                   inside=False))
    queries = select_queries(np.random.default_rng(0), sightings,
                             queries_per_identity=2)
    pids = [q[0] for q in queries]
    assert set(pids) == set(range(1, 21)) and pids == sorted(pids)
    by_pid = {}
    for pid, box, name in queries:
        by_pid.setdefault(pid, []).append(name)
    # the only good sighting (inside, mostly visible) comes first; the second
    # query is from the other camera, where the only box is a poor one
    for pid, names in by_pid.items():
        assert names == [f'c1s1_{10 * pid:06d}', f'c2s1_{10 * pid + 2:06d}']


def test_several_queries_per_identity_from_distinct_frames_and_cameras():
    sightings = [_sighting(pid, 100 * pid + k, camera=1 + k % 3)
                 for pid in range(1, 6) for k in range(9)]
    queries = select_queries(np.random.default_rng(1), sightings,
                             queries_per_identity=4)
    assert len(queries) == 20
    for pid in range(1, 6):
        names = [name for p, _, name in queries if p == pid]
        assert len(set(names)) == 4
        # three cameras: the first three queries use all three of them
        assert {name[:2] for name in names[:3]} == {'c1', 'c2', 'c3'}
    # an identity seen in two frames gets two queries, not four
    two = [_sighting(9, 1, 1), _sighting(9, 2, 2)]
    assert len(select_queries(np.random.default_rng(0), two, 4)) == 2
    with pytest.raises(ValueError, match='queries_per_identity'):
        select_queries(np.random.default_rng(0), two, 0)


def test_identity_seen_once_is_refused():
    with pytest.raises(ValueError, match='c1s1_000005'):
        select_queries(np.random.default_rng(0), [_sighting(7, 5, 1)])
