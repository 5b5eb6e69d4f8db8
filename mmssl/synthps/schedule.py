"""Who appears where: the plan of a split's frames (camera, identities, passers-by).

Each frame belongs to one camera (cameras take turns evenly). Each identity is seen by
two to four cameras; first it is put into one frame of each of two of its cameras (so
every identity is seen in at least two frames and two cameras), then every frame is
filled up to its number of labelled persons with identities of its camera, preferring
those seen least so far. Every frame also gets unlabelled passers-by (PRW's pid -2),
about ``unlabelled_fraction`` of all its persons.

Plain numpy; no mmdet import.
"""
import dataclasses
from typing import List, Sequence

import numpy as np

#: Labelled persons per frame and their probabilities (mostly 2-6, a few more).
LABELLED_PER_FRAME = (2, 3, 4, 5, 6, 7, 8)
_LABELLED_PROBABILITIES = (0.2, 0.27, 0.23, 0.14, 0.09, 0.04, 0.03)


@dataclasses.dataclass
class FramePlan:
    """Who appears in one frame.

    Attributes:
        camera_id: the camera (1-based).
        person_ids: identities seen (labelled persons), distinct.
        num_unlabelled: number of unlabelled passers-by.
    """

    camera_id: int
    person_ids: List[int]
    num_unlabelled: int


def assign_cameras(rng: np.random.Generator, num_frames: int,
                   num_cameras: int) -> np.ndarray:
    """Cameras of ``num_frames`` frames, as evenly spread as possible.

    Returns:
        ``(num_frames,)`` int array of camera ids in ``1..num_cameras``.
    """
    cameras = np.arange(num_frames) % num_cameras + 1
    return cameras[rng.permutation(num_frames)]


def plan_split(rng: np.random.Generator, person_ids: Sequence[int],
               frame_cameras: Sequence[int],
               unlabelled_fraction: float) -> List[FramePlan]:
    """Plan the frames of one split.

    Args:
        rng: the random generator to draw from.
        person_ids: the split's identities.
        frame_cameras: the camera of each frame (e.g. from :func:`assign_cameras`).
        unlabelled_fraction: expected share of unlabelled persons among all
            persons, in ``[0, 0.5]``.

    Returns:
        One :class:`FramePlan` per frame, in frame order. Every identity appears in
        at least two frames of two different cameras.

    Raises:
        ValueError: fewer than two cameras have frames, or ``unlabelled_fraction``
            is out of range.
    """
    if not 0.0 <= unlabelled_fraction <= 0.5:
        raise ValueError(f'unlabelled_fraction must be in [0, 0.5], got '
                         f'{unlabelled_fraction}')
    frame_cameras = np.asarray(frame_cameras, dtype=np.int64)
    cameras = np.unique(frame_cameras)
    if len(cameras) < 2:
        raise ValueError(f'a split needs frames from at least 2 cameras so that '
                         f'every identity is seen by 2 cameras; got cameras '
                         f'{cameras.tolist()}')
    num_frames = len(frame_cameras)
    slots = rng.choice(LABELLED_PER_FRAME, size=num_frames,
                       p=_LABELLED_PROBABILITIES).astype(np.int64)
    members: List[List[int]] = [[] for _ in range(num_frames)]
    frames_of_camera = {int(c): np.flatnonzero(frame_cameras == c)
                        for c in cameras}

    id_cameras = {}
    for pid in person_ids:
        count = int(rng.integers(2, min(4, len(cameras)) + 1))
        id_cameras[pid] = [int(c) for c in rng.choice(cameras, size=count,
                                                      replace=False)]
    seen_count = {pid: 0 for pid in person_ids}

    # Every identity once in each of two of its cameras (overfilling if needed).
    for position in rng.permutation(len(person_ids)):
        pid = person_ids[int(position)]
        for camera in id_cameras[pid][:2]:
            frames = frames_of_camera[camera]
            fill = np.array([len(members[f]) / slots[f] for f in frames])
            fill += rng.uniform(0, 1e-3, size=len(frames))  # random tie break
            frame = int(frames[int(np.argmin(fill))])
            members[frame].append(pid)
            seen_count[pid] += 1
            slots[frame] = max(slots[frame], len(members[frame]))

    # Fill the remaining slots, preferring identities seen least so far.
    by_camera = {int(c): [p for p in person_ids if int(c) in id_cameras[p]]
                 for c in cameras}
    for frame in rng.permutation(num_frames):
        frame = int(frame)
        camera = int(frame_cameras[frame])
        while len(members[frame]) < slots[frame]:
            candidates = [p for p in by_camera[camera]
                          if p not in members[frame]]
            if not candidates:
                break
            weights = np.array([1.0 / (1 + seen_count[p])**2
                                for p in candidates])
            pid = candidates[int(rng.choice(len(candidates),
                                            p=weights / weights.sum()))]
            members[frame].append(pid)
            seen_count[pid] += 1

    ratio = unlabelled_fraction / (1.0 - unlabelled_fraction)
    plans = []
    for frame in range(num_frames):
        labelled = members[frame]
        unlabelled = int(rng.binomial(len(labelled), ratio))
        if not labelled:  # no identity of this camera left: passers-by only
            unlabelled = max(1, unlabelled)
        plans.append(
            FramePlan(camera_id=int(frame_cameras[frame]),
                      person_ids=list(labelled),
                      num_unlabelled=unlabelled))
    return plans
