"""Precompute the foreground masks of a dataset (the ``mask`` of the paper's Eq. 1).

Usage::

    python tools/misc/precompute_masks.py ROOT --dataset prw|cuhk|synthps \
        --method grabcut|box [--out-dir ROOT/masks] [--workers N] [--overwrite]

Writes, for every image of the dataset (train and test), the instance-index PNG of
``docs/internals.md`` section 4: ``<out-dir>/<image id without extension>.png``, one
8-bit channel of the image's size, 0 for background and ``k + 1`` for the
foreground of the box on row ``k`` of the image's annotation. The boxes are the
reader's (clipped to the image; boxes without area have no mask). ``grabcut``
runs OpenCV GrabCut initialised by each box
(``mmssl.datasets.transforms.grabcut_mask``, the same function as
``LoadForegroundMasks(source='grabcut')``); ``box`` writes the whole box
(``box_masks``).

Where two persons' foregrounds overlap, the pixel goes to the person whose box
reaches lower in the image (the one closer to the camera in a street scene); a
person covered entirely ends with an empty mask, and the summary counts them.
Images whose mask file exists are skipped unless ``--overwrite``; a mask is written
to a temporary file and renamed, so an interrupted run leaves no partial PNG.
Training then reads the masks with ``LoadForegroundMasks(source='file')``
(``LoadPersonSearchAnnotations(with_fg_mask=True)``).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

try:
    import mmssl  # noqa: F401
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))

DATASETS = ('prw', 'cuhk', 'synthps')
METHODS = ('grabcut', 'box')
MAX_ROWS = 255
"""Rows 0..254 fit the 8-bit instance-index PNG (value ``row + 1``)."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Write instance-index foreground mask PNGs for every image '
        'of a person-search dataset (docs/internals.md section 4).')
    parser.add_argument('root', help='dataset root in its official layout')
    parser.add_argument('--dataset', choices=DATASETS, required=True)
    parser.add_argument('--method', choices=METHODS, required=True)
    parser.add_argument('--out-dir', default=None,
                        help='output folder (default: ROOT/masks, where the '
                        "datasets' mask_dir='masks' looks)")
    parser.add_argument('--workers', type=int, default=1,
                        help='processes computing masks in parallel')
    parser.add_argument('--overwrite', action='store_true',
                        help='recompute masks that already exist')
    parser.add_argument('--grabcut-iterations', type=int, default=3)
    parser.add_argument('--grabcut-margin', type=float, default=0.25,
                        help='context around the box given to GrabCut, as a '
                        'fraction of the box size')
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error('--workers must be at least 1')
    return args


# ------------------------------------------------------------ the images


def read_dataset(root: str, dataset: str) -> List[dict]:
    """Train and test (gallery) records of a dataset root, every image once.

    The train split is read without filtering, so images without a valid box
    get an all-background mask too.
    """
    from mmssl.datasets import CUHKSYSUDataset, PRWDataset
    from mmssl.datasets.formats import (CUHK_GALLERY_SIZES,
                                        cuhk_test_protocol_path)
    if dataset == 'synthps' and not osp.isfile(osp.join(root,
                                                        'frame_train.mat')):
        raise FileNotFoundError(
            f'{root}: not a rendered SynthPS root (no frame_train.mat); render '
            'it first (mmssl-synthps or building SynthPSDataset)')
    common = dict(data_root=root, serialize_data=False, mask_dir=None,
                  pipeline=[])
    if dataset == 'cuhk':
        # the test split needs one TestG file for its protocol: the smallest
        sizes = [n for n in CUHK_GALLERY_SIZES
                 if osp.isfile(cuhk_test_protocol_path(root, n))]
        common['gallery_sizes'] = tuple(sizes[:1]) or (100, )
        reader = CUHKSYSUDataset
    else:
        reader = PRWDataset
    train = reader(split='train', filter_cfg=dict(filter_empty_gt=False),
                   **common)
    test = reader(split='test', **common)
    records: Dict[str, dict] = {}
    for record in list(train.data_list) + list(test.data_list):
        if not record['is_query']:
            records.setdefault(record['img_id'], record)
    return list(records.values())


def mask_tasks(records: Sequence[dict], out_dir: str, method: str,
               grabcut_iterations: int, grabcut_margin: float) -> List[dict]:
    """One picklable work item per record: paths, boxes, rows, settings."""
    tasks = []
    for record in records:
        instances = record['instances']
        tasks.append(dict(
            img_path=record['img_path'],
            out_path=osp.join(out_dir,
                              osp.splitext(record['img_id'])[0] + '.png'),
            height=record['height'],
            width=record['width'],
            bboxes=np.array([i['bbox'] for i in instances],
                            dtype=np.float64).reshape(-1, 4),
            rows=np.array([i['ann_row'] for i in instances], dtype=np.int64),
            method=method,
            grabcut_iterations=grabcut_iterations,
            grabcut_margin=grabcut_margin))
    return tasks


# ------------------------------------------------------------- the masks


def person_masks(image: np.ndarray, bboxes: np.ndarray, method: str,
                 grabcut_iterations: int = 3,
                 grabcut_margin: float = 0.25) -> np.ndarray:
    """``(n, H, W)`` uint8 0/1 foreground masks of the boxes of one image."""
    from mmssl.datasets.transforms import box_masks, grabcut_mask
    height, width = image.shape[:2]
    if method == 'box' or len(bboxes) == 0:
        return box_masks(bboxes, height, width)
    return np.stack([
        grabcut_mask(image, box, grabcut_iterations, grabcut_margin)
        for box in bboxes
    ])


def paint_instance_map(masks: np.ndarray, rows: np.ndarray,
                       bboxes: np.ndarray) -> Tuple[np.ndarray, int]:
    """Merge per-person masks into one instance-index map (value ``row + 1``).

    Persons are painted by increasing bottom edge ``y2`` (ties: by row), so an
    overlapping pixel goes to the person whose box reaches lowest.

    Args:
        masks: ``(n, H, W)`` 0/1 masks.
        rows: ``(n,)`` annotation rows, each in ``0..254``.
        bboxes: ``(n, 4)`` ``[x1, y1, x2, y2]`` boxes.

    Returns:
        The ``(H, W)`` uint8 map and the number of persons left without a pixel.
    """
    masks = np.asarray(masks)
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    bboxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
    instance_map = np.zeros(masks.shape[1:], dtype=np.uint8)
    for k in np.lexsort((rows, bboxes[:, 3])):
        instance_map[masks[k] > 0] = rows[k] + 1
    present = np.zeros(MAX_ROWS + 1, dtype=bool)
    present[np.unique(instance_map)] = True
    empty = int((~present[rows + 1]).sum()) if len(rows) else 0
    return instance_map, empty


def write_png_atomically(path: str, image: np.ndarray) -> None:
    """Write a PNG through a temporary file in the same folder, then rename."""
    folder, name = osp.split(path)
    tmp = osp.join(folder, f'.{name}.{os.getpid()}.tmp.png')
    if not cv2.imwrite(tmp, image):
        raise OSError(f'{path}: could not write the mask')
    os.replace(tmp, path)


def write_mask(task: dict) -> Tuple[int, int]:
    """Compute and write one image's mask.

    Returns:
        ``(persons, persons left with an empty mask)``.

    Raises:
        ValueError: the image cannot be decoded, its size differs from the
            annotation's, or a box's annotation row does not fit in 8 bits;
            the message names the image.
    """
    rows = task['rows']
    if len(rows) and (rows.min() < 0 or rows.max() >= MAX_ROWS):
        raise ValueError(f'{task["img_path"]}: annotation rows must be 0..'
                         f'{MAX_ROWS - 1} to fit an 8-bit mask, got '
                         f'{rows.min()}..{rows.max()}')
    image = cv2.imread(task['img_path'], cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'{task["img_path"]}: OpenCV cannot decode the image')
    expected = (task['height'], task['width'])
    if image.shape[:2] != expected:
        raise ValueError(f'{task["img_path"]}: image of size {image.shape[:2]} '
                         f'(h, w), the dataset says {expected}')
    masks = person_masks(image, task['bboxes'], task['method'],
                         task['grabcut_iterations'], task['grabcut_margin'])
    instance_map, empty = paint_instance_map(masks, rows, task['bboxes'])
    write_png_atomically(task['out_path'], instance_map)
    return len(rows), empty


# ------------------------------------------------------------------ main


def precompute_masks(root: str, dataset: str, method: str,
                     out_dir: Optional[str] = None, workers: int = 1,
                     overwrite: bool = False, grabcut_iterations: int = 3,
                     grabcut_margin: float = 0.25) -> dict:
    """Write the masks of every image of a dataset root.

    Returns:
        dict with ``out_dir``, ``images`` (all), ``written``, ``skipped``
        (existing, kept), ``persons`` (in the written masks) and
        ``empty_persons`` (left without a pixel).
    """
    from mmengine.utils import track_parallel_progress, track_progress
    out_dir = out_dir or osp.join(root, 'masks')
    tasks = mask_tasks(read_dataset(root, dataset), out_dir, method,
                       grabcut_iterations, grabcut_margin)
    todo = [t for t in tasks if overwrite or not osp.isfile(t['out_path'])]
    os.makedirs(out_dir, exist_ok=True)
    if not todo:
        results = []
    elif workers > 1:
        results = track_parallel_progress(write_mask, todo, workers)
    else:
        results = track_progress(write_mask, todo)
    return dict(out_dir=out_dir, images=len(tasks), written=len(todo),
                skipped=len(tasks) - len(todo),
                persons=sum(r[0] for r in results),
                empty_persons=sum(r[1] for r in results))


def main(argv: Optional[List[str]] = None) -> int:
    """Run the tool; print a summary line."""
    args = parse_args(argv)
    summary = precompute_masks(args.root, args.dataset, args.method,
                               args.out_dir, args.workers, args.overwrite,
                               args.grabcut_iterations, args.grabcut_margin)
    print(f'\n{summary["out_dir"]}: {summary["written"]} masks written '
          f'({args.method}, {summary["persons"]} persons), '
          f'{summary["skipped"]} existing kept'
          + (' (--overwrite recomputes them)' if summary['skipped'] else ''))
    if summary['empty_persons']:
        print(f'warning: {summary["empty_persons"]} persons have an empty mask '
              '(covered by persons in front of them)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
