"""A tiny PRW root in the exact official formats, for tests across the project.

The content is fixed (``TINY_PRW_TRAIN``, ``TINY_PRW_TEST``, ``TINY_PRW_QUERIES``, in
a 96 x 64 reference frame) so tests can state expected values by hand. It holds the
format's quirks: the three annotation keys (``box_new``, ``anno_file``,
``anno_previous``), negative coordinates and boxes past the right/bottom edge, a box
with ``w = 0``, a box entirely outside the frame, a train frame left without any
valid box, a test frame without persons (an empty matrix), unlabelled persons
(pid -2) and a CRLF ``query_info.txt``.

Expected content at the default size (height 64, width 96):

* train: 5 frames, 4 kept (``c1s1_000004`` has no valid box), 8 valid boxes, 2
  dropped (``w = 0`` in ``c3s1_000003`` and the box outside ``c1s1_000004``);
* test: 6 gallery frames over cameras 1-3, 3 queries (pids 10, 11, 12).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmssl.datasets.formats import (save_prw_annotation, save_prw_name_list,
                                    save_prw_queries)
from .scene_images import write_instance_mask, write_scene_image

REFERENCE_HEIGHT, REFERENCE_WIDTH = 64, 96

# name -> (annotation key, rows [pid, x, y, w, h]) in the 96 x 64 reference frame
TINY_PRW_TRAIN: Dict[str, Tuple[str, List[List[float]]]] = {
    'c1s1_000001': ('box_new', [[1, 10, 8, 12, 30], [2, 40, 10, 14, 32],
                                [-2, 70, 20, 10, 25]]),
    'c2s1_000002': ('anno_file', [[1, -4, 5, 12, 30], [3, 50, 12, 15, 40]]),
    'c3s1_000003': ('anno_previous', [[2, 20, 10, 12, 30],
                                      [3, 60, 4, 0, 30]]),
    'c1s1_000004': ('box_new', [[-2, 100, 10, 10, 20]]),
    'c2s1_000005': ('box_new', [[1, 30, 15, 13, 33], [-2, 80, 30, 20, 40]]),
}

TINY_PRW_TEST: Dict[str, Tuple[str, List[List[float]]]] = {
    'c1s1_000101': ('box_new', [[10, 10, 10, 12, 30], [11, 50, 8, 14, 34]]),
    'c2s1_000102': ('anno_file', [[10, 30, 12, 12, 30], [-2, 70, 5, 10, 25]]),
    'c3s1_000103': ('box_new', [[11, 20, 6, 14, 34], [12, 60, 10, 12, 36]]),
    'c1s1_000104': ('box_new', [[12, 5, 20, 12, 30], [10, 70, 10, 12, 30]]),
    'c2s1_000105': ('box_new', []),
    'c3s1_000106': ('box_new', [[11, 40, -2, 14, 34]]),
}

# (pid, [x, y, w, h], frame name without .jpg)
TINY_PRW_QUERIES: List[Tuple[int, List[float], str]] = [
    (10, [10, 10, 12, 30], 'c1s1_000101'),
    (11, [50, 8, 14, 34], 'c1s1_000101'),
    (12, [60, 10, 12, 36], 'c3s1_000103'),
]


def _scaled(rows: Sequence[Sequence[float]], sx: float,
            sy: float) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 5).copy()
    rows[:, [1, 3]] *= sx
    rows[:, [2, 4]] *= sy
    return rows


def write_tiny_prw_root(root: str,
                        height: int = REFERENCE_HEIGHT,
                        width: int = REFERENCE_WIDTH,
                        with_masks: bool = True,
                        seed: int = 0,
                        train: Optional[Dict] = None,
                        test: Optional[Dict] = None,
                        queries: Optional[List] = None) -> dict:
    """Write a tiny PRW root (``frames/``, ``annotations/``, split files, queries).

    Args:
        root: the folder to write (created).
        height, width: frame size; boxes are scaled from the 96 x 64 reference.
        with_masks: also write ``masks/<name>.png`` instance-index masks
            (``docs/internals.md`` section 4) for every frame.
        seed: seed of the image noise.
        train, test, queries: replace ``TINY_PRW_TRAIN`` / ``TINY_PRW_TEST`` /
            ``TINY_PRW_QUERIES`` (same structures, reference coordinates).

    Returns:
        dict with ``root``, ``height``, ``width``, ``train`` and ``test`` (name ->
        ``(key, rows)`` with rows scaled to the frame), ``queries`` (scaled).
    """
    train = TINY_PRW_TRAIN if train is None else train
    test = TINY_PRW_TEST if test is None else test
    queries = TINY_PRW_QUERIES if queries is None else queries
    sx, sy = width / REFERENCE_WIDTH, height / REFERENCE_HEIGHT
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    written = dict(root=root, height=height, width=width, train={}, test={})
    for split, frames in (('train', train), ('test', test)):
        for index, (name, (key, rows)) in enumerate(frames.items()):
            rows = _scaled(rows, sx, sy)
            written[split][name] = (key, rows)
            write_scene_image(
                osp.join(root, 'frames', name + '.jpg'), rows[:, 1:], height,
                width, seed * 1000 + index + (500 if split == 'test' else 0))
            save_prw_annotation(
                osp.join(root, 'annotations', name + '.jpg.mat'), rows, key=key)
            if with_masks:
                valid = (rows[:, 3] > 0) & (rows[:, 4] > 0)
                write_instance_mask(
                    osp.join(root, 'masks', name + '.png'), rows[:, 1:], valid,
                    height, width)
    scaled_queries = [(pid, (np.asarray(box, float) * [sx, sy, sx, sy]).tolist(),
                       name) for pid, box, name in queries]
    written['queries'] = scaled_queries
    save_prw_queries(osp.join(root, 'query_info.txt'), scaled_queries)
    save_prw_name_list(osp.join(root, 'frame_test.mat'), 'img_index_test',
                       list(test))
    # written last: SynthPSDataset treats its presence as "root complete"
    save_prw_name_list(osp.join(root, 'frame_train.mat'), 'img_index_train',
                       list(train))
    return written
