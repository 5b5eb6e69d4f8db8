"""Writing SynthPS files in the PRW layout, reproducibly and safely.

The PRW writers of :mod:`mmssl.datasets.formats` are used for every ``.mat`` and for
``query_info.txt``. scipy stamps the creation time into the 116-byte descriptive text of
a MAT-file header; :func:`stamp_mat_header` replaces it with a fixed text, so the same
seed gives byte-identical annotation files.

A root is marked as SynthPS by ``synthps.json`` (the generator, its version and its
parameters), written first; ``frame_train.mat``, which readers test for, is written last, so a
half-written root never looks complete. A non-empty directory without the marker is
never written into.

Plain numpy/OpenCV/scipy; no mmdet import.
"""
import json
import os
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from ..datasets.formats import save_prw_annotation, save_prw_name_list

MARKER_FILE = 'synthps.json'
#: Version of what the renderer draws: raised whenever the same parameters and seed
#: render different content, so a root of an older renderer can be told apart.
#: 2: every frame shows a place of its own; several queries per test identity.
RENDERER_VERSION = 2
COMPLETION_FILE = 'frame_train.mat'
SUBDIRS = ('frames', 'annotations', 'masks')
_MAT_DESCRIPTION_BYTES = 116
_MAT_DESCRIPTION = b'MATLAB 5.0 MAT-file, written by mmssl SynthPS'


def stamp_mat_header(path: str) -> None:
    """Replace the creation time in a MAT-file header by a fixed text.

    Args:
        path: a MATLAB 5 ``.mat`` file written by scipy.

    Raises:
        ValueError: the file does not start with a MATLAB 5 header.
    """
    with open(path, 'r+b') as f:
        header = f.read(_MAT_DESCRIPTION_BYTES)
        if not header.startswith(b'MATLAB 5.0 MAT-file'):
            raise ValueError(f'{path}: not a MATLAB 5 MAT-file')
        f.seek(0)
        f.write(_MAT_DESCRIPTION.ljust(_MAT_DESCRIPTION_BYTES, b' '))


def prepare_root(root: Path, parameters: dict) -> None:
    """Make ``root`` ready for rendering and mark it as incomplete.

    Creates ``root`` and its sub-folders, refuses a non-empty folder that is not a
    SynthPS root, removes ``frame_train.mat`` of an earlier rendering (so the root
    reads as incomplete until the end) and writes the marker file.

    Args:
        root: the dataset root.
        parameters: the rendering parameters, stored in the marker file.

    Raises:
        FileExistsError: ``root`` is a non-empty folder without ``synthps.json``,
            or exists and is not a folder.
    """
    if root.exists() and not root.is_dir():
        raise FileExistsError(f'{root}: exists and is not a directory')
    if root.is_dir() and any(root.iterdir()) and not (root /
                                                     MARKER_FILE).is_file():
        raise FileExistsError(
            f'{root}: directory is not empty and holds no {MARKER_FILE}; '
            'refusing to render SynthPS over files it did not write')
    root.mkdir(parents=True, exist_ok=True)
    completion = root / COMPLETION_FILE
    if completion.exists():
        completion.unlink()
    for sub in SUBDIRS:
        (root / sub).mkdir(exist_ok=True)
    marker = dict(generator='mmssl.synthps', format='PRW',
                  version=RENDERER_VERSION, parameters=parameters)
    (root / MARKER_FILE).write_text(json.dumps(marker, indent=2, sort_keys=True) +
                                    '\n')


def write_frame(root: Path, name: str, image: np.ndarray,
                instance_map: np.ndarray, rows: np.ndarray,
                jpeg_quality: int) -> None:
    """Write one frame: image, instance mask and annotation.

    Args:
        root: the dataset root.
        name: frame name without ``.jpg``.
        image: ``(H, W, 3)`` uint8 BGR frame.
        instance_map: ``(H, W)`` uint8 instance mask (``k + 1`` = row ``k``).
        rows: ``(K, 5)`` ``[pid, x, y, w, h]`` annotation rows.
        jpeg_quality: JPEG quality (0-100).

    Raises:
        OSError: OpenCV could not write an image (names the file).
    """
    image_path = root / 'frames' / f'{name}.jpg'
    if not cv2.imwrite(str(image_path), image,
                       [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]):
        raise OSError(f'{image_path}: could not write the frame')
    mask_path = root / 'masks' / f'{name}.png'
    if not cv2.imwrite(str(mask_path), instance_map):
        raise OSError(f'{mask_path}: could not write the mask')
    annotation_path = root / 'annotations' / f'{name}.jpg.mat'
    save_prw_annotation(str(annotation_path), rows)
    stamp_mat_header(str(annotation_path))


def write_name_list(path: Path, key: str, names: Iterable[str]) -> None:
    """Write a frame list (``frame_train.mat``/``frame_test.mat``) reproducibly."""
    tmp = path.with_name(path.name + '.tmp')
    save_prw_name_list(str(tmp), key, list(names))
    stamp_mat_header(str(tmp))
    os.replace(tmp, path)


def remove_stale_frames(root: Path, names: Iterable[str]) -> int:
    """Delete frame files of an earlier rendering that the new one did not write.

    Only ``frames/*.jpg``, ``annotations/*.jpg.mat`` and ``masks/*.png`` of a
    SynthPS root are considered.

    Args:
        root: the dataset root.
        names: the frame names (without ``.jpg``) of the new rendering.

    Returns:
        The number of files removed.
    """
    keep = set(names)
    removed = 0
    patterns = (('frames', '.jpg'), ('annotations', '.jpg.mat'), ('masks',
                                                                  '.png'))
    for sub, suffix in patterns:
        for path in (root / sub).glob(f'*{suffix}'):
            if path.name[:-len(suffix)] not in keep:
                path.unlink()
                removed += 1
    return removed
