"""Query selection: one or two per identity, good boxes preferred, other camera."""
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
    queries = select_queries(np.random.default_rng(0), sightings)
    pids = [q[0] for q in queries]
    assert set(pids) == set(range(1, 21)) and pids == sorted(pids)
    firsts = {}
    for pid, box, name in queries:
        firsts.setdefault(pid, name)
    # The only good sighting (inside, mostly visible) is always the first query.
    assert all(name == f'c1s1_{10 * pid:06d}' for pid, name in firsts.items())
    seconds = [q for i, q in enumerate(queries) if i and queries[i - 1][0] == q[0]]
    assert 3 <= len(seconds) <= 17
    assert all(name.startswith('c2') for _, _, name in seconds)


def test_identity_seen_once_is_refused():
    with pytest.raises(ValueError, match='c1s1_000005'):
        select_queries(np.random.default_rng(0), [_sighting(7, 5, 1)])
