"""Statistics of a person-search root in the PRW layout (SynthPS or PRW itself).

Reads the split lists, every annotation and the queries with the PRW format readers
and reports what the SynthPS requirements are checked against: identities, frames,
boxes per split, unlabelled share, person heights and their range, cameras and frames
per identity, number of queries.

Plain numpy; no mmdet import.
"""
import re
from pathlib import Path
from typing import Dict, List, Union

import numpy as np

from ..datasets.formats import (load_prw_annotation, load_prw_name_list,
                                load_prw_queries)

_CAMERA = re.compile(r'c(\d)')


def camera_of(name: str) -> int:
    """Camera id of a PRW frame name (the digit after ``c``).

    Raises:
        ValueError: the name holds no ``c<digit>``.
    """
    match = _CAMERA.search(name)
    if match is None:
        raise ValueError(f'frame name {name!r} holds no camera id c<digit>')
    return int(match.group(1))


def synthps_statistics(root: Union[str, Path]) -> Dict[str, object]:
    """Compute the statistics of a rendered root.

    Args:
        root: a folder in the PRW layout (``frame_train.mat``, ``frame_test.mat``,
            ``annotations/``, ``query_info.txt``).

    Returns:
        A JSON-serialisable dict::

            identities: {train, test, shared}   # shared: in both splits
            frames: {train, test}
            boxes: {train, test}
            labelled_boxes, unlabelled_boxes: int
            unlabelled_fraction: float
            person_height: {min, median, max, max_min_ratio}   # pixels, all boxes
            cameras: int                          # distinct cameras in frame names
            cameras_per_identity: {min, median}
            frames_per_identity: {min, median}
            queries: int

    Raises:
        FileNotFoundError: a split list or the query file is missing (names it).
        ValueError: a malformed file (the readers name the file and record).
    """
    root = Path(root)
    lists = dict(train=('frame_train.mat', 'img_index_train'),
                 test=('frame_test.mat', 'img_index_test'))
    frames: Dict[str, List[str]] = {}
    for split, (file_name, key) in lists.items():
        path = root / file_name
        if not path.is_file():
            raise FileNotFoundError(f'{path}: missing; is {root} a complete '
                                    'PRW-layout root?')
        frames[split] = load_prw_name_list(str(path), key)
    query_path = root / 'query_info.txt'
    if not query_path.is_file():
        raise FileNotFoundError(f'{query_path}: missing')
    queries = load_prw_queries(str(query_path))

    identities = dict(train=set(), test=set())
    boxes = dict(train=0, test=0)
    heights = []
    labelled = unlabelled = 0
    cameras_of_id: Dict[int, set] = {}
    frames_of_id: Dict[int, set] = {}
    for split, names in frames.items():
        for name in names:
            rows = load_prw_annotation(
                str(root / 'annotations' / f'{name}.jpg.mat'))
            camera = camera_of(name)
            boxes[split] += len(rows)
            heights.extend(rows[:, 4].tolist())
            for pid in rows[:, 0].astype(np.int64).tolist():
                if pid < 0:
                    unlabelled += 1
                    continue
                labelled += 1
                identities[split].add(pid)
                cameras_of_id.setdefault(pid, set()).add(camera)
                frames_of_id.setdefault(pid, set()).add(name)

    heights = np.asarray(heights, dtype=np.float64)
    total = labelled + unlabelled
    per_id_cameras = np.array([len(v) for v in cameras_of_id.values()])
    per_id_frames = np.array([len(v) for v in frames_of_id.values()])

    def summary(values: np.ndarray) -> dict:
        if values.size == 0:
            return dict(min=0, median=0.0)
        return dict(min=int(values.min()), median=float(np.median(values)))

    height_stats = dict(min=0.0, median=0.0, max=0.0, max_min_ratio=0.0)
    if heights.size:
        low, high = float(heights.min()), float(heights.max())
        height_stats = dict(min=low, median=float(np.median(heights)), max=high,
                            max_min_ratio=high / low if low > 0 else float('inf'))
    all_names = frames['train'] + frames['test']
    return dict(
        identities=dict(train=len(identities['train']),
                        test=len(identities['test']),
                        shared=len(identities['train'] & identities['test'])),
        frames=dict(train=len(frames['train']), test=len(frames['test'])),
        boxes=dict(train=boxes['train'], test=boxes['test']),
        labelled_boxes=labelled,
        unlabelled_boxes=unlabelled,
        unlabelled_fraction=unlabelled / total if total else 0.0,
        person_height=height_stats,
        cameras=len({camera_of(n) for n in all_names}),
        cameras_per_identity=summary(per_id_cameras),
        frames_per_identity=summary(per_id_frames),
        queries=len(queries),
    )


def format_statistics(statistics: Dict[str, object]) -> str:
    """Render statistics from :func:`synthps_statistics` as a readable table.

    Args:
        statistics: the dict.

    Returns:
        A multi-line, two-column text table.
    """
    rows = []
    for key, value in statistics.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                rows.append((f'{key}.{sub}', item))
        else:
            rows.append((key, value))

    def text(value) -> str:
        if isinstance(value, float):
            return f'{value:.3f}' if abs(value) < 100 else f'{value:.1f}'
        return str(value)

    width = max(len(name) for name, _ in rows)
    value_width = max(len(text(v)) for _, v in rows)
    rule = '-' * (width + value_width + 3)
    lines = [rule, f'{"statistic".ljust(width)} | value', rule]
    lines += [f'{name.ljust(width)} | {text(value)}' for name, value in rows]
    lines.append(rule)
    return '\n'.join(lines)
