"""Choosing the query boxes of the test identities.

Every test identity gets several queries (four by default), from distinct frames and,
while its sightings allow, from distinct cameras (PRW also has several queries per
identity). A query is one of the identity's labelled test boxes; boxes that lie inside
the frame and are mostly visible are preferred, as an annotator would pick them. Since
every identity is seen in at least two frames of two cameras, each query has its person
in another gallery frame, also from another camera (multi-view protocol).

Plain numpy; no mmdet import.
"""
import dataclasses
from typing import List, Sequence, Tuple

import numpy as np

#: A box with at least this visible share (and inside the frame) is a good query.
GOOD_QUERY_VISIBILITY = 0.6


@dataclasses.dataclass(frozen=True)
class Sighting:
    """One labelled box of a test frame.

    Attributes:
        person_id: the identity.
        frame_name: frame name without ``.jpg``.
        camera_id: the frame's camera.
        box: ``[x, y, w, h]``, exactly as in the annotation file.
        visible_fraction: share of the person that is seen.
        inside: whether the box lies inside the frame.
    """

    person_id: int
    frame_name: str
    camera_id: int
    box: Tuple[float, float, float, float]
    visible_fraction: float
    inside: bool

    @property
    def is_good(self) -> bool:
        """Inside the frame and mostly visible."""
        return self.inside and self.visible_fraction >= GOOD_QUERY_VISIBILITY


def _pick(rng: np.random.Generator, sightings: List[Sighting]) -> Sighting:
    good = [s for s in sightings if s.is_good]
    if good:
        return good[int(rng.integers(len(good)))]
    return max(sightings, key=lambda s: (s.inside, s.visible_fraction))


def select_queries(rng: np.random.Generator,
                   sightings: Sequence[Sighting],
                   queries_per_identity: int = 4
                   ) -> List[Tuple[int, Tuple[float, float, float, float], str]]:
    """Pick up to ``queries_per_identity`` query boxes of every test identity.

    The queries of one identity come from distinct frames, and each one, while it
    can, from a camera its earlier queries do not use (PRW also has several queries
    per identity, from different cameras). A query keeps at least one other frame
    of its person in the gallery, since an identity is seen in two frames or more.

    Args:
        rng: the random generator to draw from.
        sightings: every labelled test box.
        queries_per_identity: most queries of one identity (>= 1).

    Returns:
        ``(pid, [x, y, w, h], frame name)`` tuples sorted by pid, as
        :func:`mmssl.datasets.formats.save_prw_queries` takes them.

    Raises:
        ValueError: an identity is seen in fewer than two frames (no gallery frame
            would hold it), or ``queries_per_identity < 1``.
    """
    if queries_per_identity < 1:
        raise ValueError(f'queries_per_identity must be >= 1, got '
                         f'{queries_per_identity}')
    by_person = {}
    for sighting in sightings:
        by_person.setdefault(sighting.person_id, []).append(sighting)
    queries = []
    for pid in sorted(by_person):
        own = by_person[pid]
        if len({s.frame_name for s in own}) < 2:
            raise ValueError(f'test identity {pid} is seen in frame '
                             f'{own[0].frame_name} only; a query needs its '
                             'person in another gallery frame')
        used_frames, used_cameras = set(), set()
        for _ in range(min(queries_per_identity, len(own))):
            left = [s for s in own if s.frame_name not in used_frames]
            if not left:
                break
            new_camera = [s for s in left if s.camera_id not in used_cameras]
            chosen = _pick(rng, new_camera or left)
            used_frames.add(chosen.frame_name)
            used_cameras.add(chosen.camera_id)
            queries.append((pid, chosen.box, chosen.frame_name))
    return queries
