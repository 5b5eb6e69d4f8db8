"""The PRW file formats, read and written exactly as the official release has them.

* ``annotations/<name>.jpg.mat``: a ``K x 5`` double matrix ``[pid, x, y, w, h]`` under
  the first present key of ``box_new``, ``anno_file``, ``anno_previous``; pid -2 marks an
  unlabelled person.
* ``frame_train.mat`` / ``frame_test.mat``: an ``N x 1`` cell of frame names without
  ``.jpg`` under ``img_index_train`` / ``img_index_test``.
* ``query_info.txt``: lines ``pid x y w h name`` (name without ``.jpg``), CRLF ends.

Plain functions over numpy arrays; no mmdet import.
"""
from typing import List, Sequence, Tuple

import os.path as osp

import numpy as np
import scipy.io

from .entries import note_first_entry

PRW_BOX_KEYS = ('box_new', 'anno_file', 'anno_previous')


def _require_file(path: str, expected: str) -> None:
    """Raise a ``FileNotFoundError`` naming ``path`` and what it should hold."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: file not found; expected {expected}')


def load_prw_annotation(path: str) -> np.ndarray:
    """Load one PRW frame annotation.

    Args:
        path: ``annotations/<name>.jpg.mat``.

    Returns:
        ``(K, 5)`` float64 array of ``[pid, x, y, w, h]`` rows (``K`` may be 0).

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: no known key, the matrix is not ``K x 5`` or holds NaN/inf;
            the message names the file (and the row).
    """
    _require_file(path, 'a K x 5 matrix [pid, x, y, w, h] under one of the keys '
                  f'{PRW_BOX_KEYS}')
    try:
        mat = scipy.io.loadmat(path)
    except Exception as err:  # scipy raises several types for broken files
        raise ValueError(f'{path}: not a readable .mat file ({err})') from err
    for key in PRW_BOX_KEYS:
        if key in mat:
            rows = np.asarray(mat[key], dtype=np.float64)
            if rows.size == 0:
                return np.zeros((0, 5), dtype=np.float64)
            if rows.ndim != 2 or rows.shape[1] != 5:
                raise ValueError(
                    f'{path}: key {key!r} holds an array of shape {rows.shape}, '
                    'expected K x 5 rows [pid, x, y, w, h]')
            bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
            if bad.size:
                raise ValueError(
                    f'{path}: row {bad[0]} of {key!r} holds a non-finite value '
                    f'({rows[bad[0]].tolist()}); expected numbers '
                    '[pid, x, y, w, h]')
            return rows
    found = sorted(k for k in mat if not k.startswith('__'))
    raise ValueError(f'{path}: none of the keys {PRW_BOX_KEYS} found '
                     f'(keys present: {found})')


def save_prw_annotation(path: str, rows: np.ndarray,
                        key: str = 'box_new') -> None:
    """Write one PRW frame annotation (``K x 5`` ``[pid, x, y, w, h]``)."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    scipy.io.savemat(path, {key: rows})


def load_prw_name_list(path: str, key: str) -> List[str]:
    """Load an ``N x 1`` cell of frame names (``frame_train.mat``/``frame_test.mat``).

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: the key is missing, the cell is malformed or a frame is listed
            twice (with or without ``.jpg``); names the file and the entry.
    """
    _require_file(path, f'an N x 1 cell of frame names under key {key!r}')
    try:
        mat = scipy.io.loadmat(path)
    except Exception as err:
        raise ValueError(f'{path}: not a readable .mat file ({err})') from err
    if key not in mat:
        found = sorted(k for k in mat if not k.startswith('__'))
        raise ValueError(f'{path}: key {key!r} not found (keys present: '
                         f'{found}); expected an N x 1 cell of frame names')
    cell = np.asarray(mat[key]).ravel()
    names = []
    first_entry = {}
    for i, item in enumerate(cell):
        value = np.asarray(item).ravel()
        if value.size != 1 or not isinstance(value[0], str):
            raise ValueError(f'{path}: entry {i} of {key!r} is not a frame name '
                             f'string (got {item!r})')
        name = str(value[0]).strip()
        stem = name[:-4] if name.lower().endswith('.jpg') else name
        note_first_entry(first_entry, stem, i,
                         f'{path}: frame {name} is listed twice in {key!r}')
        names.append(name)
    return names


def save_prw_name_list(path: str, key: str, names: Sequence[str]) -> None:
    """Write frame names as the ``N x 1`` cell that PRW's split files hold."""
    cell = np.empty((len(names), 1), dtype=object)
    for i, name in enumerate(names):
        cell[i, 0] = name
    scipy.io.savemat(path, {key: cell})


def load_prw_queries(path: str) -> List[Tuple[int, np.ndarray, str]]:
    """Load ``query_info.txt``.

    Returns:
        A list of ``(pid, [x, y, w, h], name)``; ``name`` without ``.jpg``.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: a line without 6 fields or with non-numeric values; names the
            file and the line number.
    """
    _require_file(path, 'lines "pid x y w h name"')
    queries = []
    with open(path, 'r', newline='') as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.strip().split()
            if not fields:
                continue
            if len(fields) != 6:
                raise ValueError(f'{path}:{lineno}: expected "pid x y w h name", '
                                 f'got {line.strip()!r}')
            try:
                pid = int(float(fields[0]))
                box = np.array([float(v) for v in fields[1:5]])
            except ValueError as err:
                raise ValueError(f'{path}:{lineno}: non-numeric field in '
                                 f'{line.strip()!r}') from err
            queries.append((pid, box, fields[5]))
    return queries


def save_prw_queries(path: str,
                     queries: Sequence[Tuple[int, Sequence[float], str]]) -> None:
    """Write ``query_info.txt`` with CRLF line ends, as the official file has."""
    with open(path, 'w', newline='') as f:
        for pid, box, name in queries:
            x, y, w, h = (float(v) for v in box)
            f.write(f'{int(pid)} {x:g} {y:g} {w:g} {h:g} {name}\r\n')
