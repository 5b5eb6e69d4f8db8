"""Rendering a whole SynthPS root: identities, cameras, frames, masks, queries.

``render_synthps`` draws the identities and the cameras, plans which identities each
frame shows, composes every frame in a place of its own (the camera's style varied,
:func:`~mmssl.synthps.camera.vary_place`), writes it with its instance mask and
annotation, picks the queries and writes the split lists, ``frame_train.mat`` last. Every random
choice comes from generators seeded by ``seed`` and the part/frame they serve, so the
same seed renders the same files.
"""
import inspect
import math
from pathlib import Path
from typing import Dict, List, Union

import numpy as np
from mmengine.utils import ProgressBar

from ..datasets.formats import save_prw_queries
from .appearance import random_appearance, sample_identity_appearances
from .camera import sample_camera_styles, vary_place
from .composition import compose_frame
from .queries import Sighting, select_queries
from .scene import build_camera_scene
from .schedule import assign_cameras, plan_split
from .statistics import synthps_statistics
from .writer import (prepare_root, remove_stale_frames, write_frame,
                     write_name_list)

UNLABELLED_PID = -2
#: Frame numbers advance by this step, as PRW's frames are sampled from video.
FRAME_NUMBER_STEP = 25
#: Average labelled persons a frame can hold (for the parameter check).
_MEAN_LABELLED_PER_FRAME = 3.5

# Streams of the random generators: seeds are [seed, stream, ...].
_IDENTITIES, _CAMERAS, _SCENES, _PLANS, _FRAMES, _QUERIES = range(6)


def _check_parameters(p: dict) -> None:
    for key in ('seed', 'num_train_ids', 'num_test_ids', 'num_train_frames',
                'num_test_frames', 'num_cameras', 'height', 'width',
                'min_person_height', 'max_person_height', 'queries_per_identity'):
        if not isinstance(p[key], (int, np.integer)) or isinstance(p[key], bool):
            raise TypeError(f'{key} must be an int, got {p[key]!r}')
    if p['seed'] < 0:
        raise ValueError(f'seed must be >= 0, got {p["seed"]}')
    if p['num_train_ids'] < 1 or p['num_test_ids'] < 1:
        raise ValueError('num_train_ids and num_test_ids must be >= 1')
    if p['queries_per_identity'] < 1:
        raise ValueError(f'queries_per_identity must be >= 1, got '
                         f'{p["queries_per_identity"]}')
    if not 2 <= p['num_cameras'] <= 9:
        raise ValueError(f'num_cameras must be in 2..9 (PRW frame names hold one '
                         f'camera digit), got {p["num_cameras"]}')
    for split in ('train', 'test'):
        frames, ids = p[f'num_{split}_frames'], p[f'num_{split}_ids']
        needed = max(2, math.ceil(2 * ids / _MEAN_LABELLED_PER_FRAME))
        if frames < needed:
            raise ValueError(
                f'num_{split}_frames={frames} is too few for {ids} identities '
                f'seen twice each: need at least {needed}')
    if p['height'] < 48 or p['width'] < 48:
        raise ValueError(f'frame size {p["height"]}x{p["width"]} is too small '
                         '(>= 48x48)')
    if not 8 <= p['min_person_height'] < p['max_person_height']:
        raise ValueError(
            f'need 8 <= min_person_height < max_person_height, got '
            f'{p["min_person_height"]} and {p["max_person_height"]}')
    if p['max_person_height'] > p['height'] - 8:
        raise ValueError(f'max_person_height={p["max_person_height"]} must be '
                         f'<= height - 8 = {p["height"] - 8}')
    if not 0.0 <= p['unlabelled_fraction'] <= 0.5:
        raise ValueError(f'unlabelled_fraction must be in [0, 0.5], got '
                         f'{p["unlabelled_fraction"]}')


def _frame_names(cameras_per_split: List[np.ndarray]) -> List[List[str]]:
    """PRW-style names ``c<cam>s1_<frame:06d>``, numbered per camera."""
    counters = {}
    names = []
    for cameras in cameras_per_split:
        split_names = []
        for camera in cameras:
            count = counters.get(int(camera), 0)
            counters[int(camera)] = count + 1
            number = 1 + FRAME_NUMBER_STEP * count
            split_names.append(f'c{int(camera)}s1_{number:06d}')
        names.append(split_names)
    return names


def render_parameters(**overrides) -> Dict[str, Union[int, float]]:
    """The full, checked parameters of a rendering: the defaults of
    :func:`render_synthps` with ``overrides`` (its keyword arguments but ``root``
    and ``progress``), JSON-ready, as ``synthps.json`` stores them.

    Raises:
        TypeError: an unknown parameter, or a count or size that is not an int.
        ValueError: inconsistent parameters.
    """
    signature = inspect.signature(render_synthps)
    defaults = {name: p.default for name, p in signature.parameters.items()
                if name not in ('root', 'progress')}
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise TypeError(f'unknown SynthPS render parameters {unknown}; expected '
                        f'some of {sorted(defaults)}')
    parameters = dict(defaults, **overrides)
    parameters['unlabelled_fraction'] = float(parameters['unlabelled_fraction'])
    _check_parameters(parameters)
    return {key: value if key == 'unlabelled_fraction' else int(value)
            for key, value in parameters.items()}


def render_synthps(root: Union[str, Path],
                   seed: int = 0,
                   num_train_ids: int = 60,
                   num_test_ids: int = 100,
                   num_train_frames: int = 400,
                   num_test_frames: int = 500,
                   num_cameras: int = 6,
                   height: int = 256,
                   width: int = 384,
                   min_person_height: int = 24,
                   max_person_height: int = 208,
                   unlabelled_fraction: float = 0.15,
                   queries_per_identity: int = 4,
                   progress: bool = True) -> dict:
    """Render the SynthPS synthetic person-search dataset in the PRW layout.

    Writes ``frames/<name>.jpg``, ``annotations/<name>.jpg.mat`` (``box_new``),
    ``masks/<name>.png`` (instance map: ``k + 1`` = person of row ``k``),
    ``query_info.txt``, ``frame_test.mat`` and, last, ``frame_train.mat``; plus
    ``synthps.json`` with the parameters. Train identities are ``1..num_train_ids``,
    test identities follow; unlabelled persons have pid -2.

    Args:
        root: output folder; created if missing. An existing SynthPS root is
            re-rendered; any other non-empty folder is refused.
        seed: random seed; the same seed gives the same files.
        num_train_ids: identities of the train split.
        num_test_ids: identities of the test split (disjoint from train).
        num_train_frames: train frames.
        num_test_frames: test frames.
        num_cameras: cameras (2..9).
        height: frame height (pixels).
        width: frame width (pixels).
        min_person_height: smallest person height (pixels).
        max_person_height: largest person height (pixels).
        unlabelled_fraction: expected share of unlabelled boxes (0..0.5).
        queries_per_identity: most queries of one test identity, from distinct
            frames and cameras (see :func:`~mmssl.synthps.queries.select_queries`).
        progress: show an mmengine progress bar.

    Returns:
        The statistics of the rendered root (see :func:`synthps_statistics`).

    Raises:
        ValueError: inconsistent parameters.
        TypeError: a count or size is not an int.
        FileExistsError: ``root`` is a non-empty folder that is not a SynthPS root.
    """
    parameters = render_parameters(
        seed=seed, num_train_ids=num_train_ids, num_test_ids=num_test_ids,
        num_train_frames=num_train_frames, num_test_frames=num_test_frames,
        num_cameras=num_cameras, height=height, width=width,
        min_person_height=min_person_height,
        max_person_height=max_person_height,
        unlabelled_fraction=unlabelled_fraction,
        queries_per_identity=queries_per_identity)
    root = Path(root)
    prepare_root(root, parameters)

    def stream(*keys: int) -> np.random.Generator:
        return np.random.default_rng([int(seed), *keys])

    appearances = sample_identity_appearances(stream(_IDENTITIES),
                                              num_train_ids + num_test_ids)
    identity_appearance = {pid: appearances[pid - 1]
                           for pid in range(1, len(appearances) + 1)}
    split_ids = dict(train=list(range(1, num_train_ids + 1)),
                     test=list(range(num_train_ids + 1,
                                     num_train_ids + num_test_ids + 1)))
    styles = sample_camera_styles(stream(_CAMERAS), num_cameras, height, width,
                                  min_person_height, max_person_height)
    camera_style = {style.camera_id: style for style in styles}
    split_frames = dict(train=num_train_frames, test=num_test_frames)
    splits = ('train', 'test')
    cameras = [assign_cameras(stream(_PLANS, 0, i), split_frames[split],
                              num_cameras) for i, split in enumerate(splits)]
    names = dict(zip(splits, _frame_names(cameras)))
    plans = {split: plan_split(stream(_PLANS, 1, i), split_ids[split],
                               cameras[i], unlabelled_fraction)
             for i, split in enumerate(splits)}

    bar = ProgressBar(num_train_frames + num_test_frames) if progress else None
    sightings = []
    for split_index, split in enumerate(splits):
        for frame_index, (name, plan) in enumerate(zip(names[split],
                                                       plans[split])):
            rng = stream(_FRAMES, split_index, frame_index)
            pids = list(plan.person_ids) + [UNLABELLED_PID] * plan.num_unlabelled
            pids = [pids[int(i)] for i in rng.permutation(len(pids))]
            people = [identity_appearance[pid] if pid != UNLABELLED_PID else
                      random_appearance(rng) for pid in pids]
            place = stream(_SCENES, split_index, frame_index)
            scene = build_camera_scene(
                vary_place(camera_style[plan.camera_id], place), place)
            frame = compose_frame(scene, people, rng, min_person_height,
                                  max_person_height)
            rows = np.zeros((len(pids), 5), dtype=np.float64)
            rows[:, 0] = pids
            rows[:, 1:] = frame.boxes
            write_frame(root, name, frame.image, frame.instance_map, rows,
                        scene.style.jpeg_quality)
            if split == 'test':
                for k, pid in enumerate(pids):
                    if pid != UNLABELLED_PID:
                        sightings.append(
                            Sighting(person_id=pid, frame_name=name,
                                     camera_id=plan.camera_id,
                                     box=tuple(float(v) for v in rows[k, 1:]),
                                     visible_fraction=float(
                                         frame.visible_fractions[k]),
                                     inside=bool(frame.inside[k])))
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.file.write('\n')

    queries = select_queries(stream(_QUERIES), sightings, queries_per_identity)
    save_prw_queries(str(root / 'query_info.txt'), queries)
    remove_stale_frames(root, names['train'] + names['test'])
    write_name_list(root / 'frame_test.mat', 'img_index_test',
                    sorted(names['test']))
    write_name_list(root / 'frame_train.mat', 'img_index_train',
                    sorted(names['train']))
    return synthps_statistics(root)

