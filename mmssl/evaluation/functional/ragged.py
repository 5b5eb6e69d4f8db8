"""Index arithmetic for ragged arrays stored flat (CSR style).

Per-image detections and ground truth are kept as one flat array plus an image index
per row; these helpers turn "rows of these images" into flat row indices without a
Python loop. Plain numpy; no mmdet import.
"""
from typing import Tuple

import numpy as np


def group_offsets(group_of_row: np.ndarray, num_groups: int) -> np.ndarray:
    """Start offsets of each group in an array sorted by group.

    Args:
        group_of_row: ``(n,)`` non-decreasing group index of every row.
        num_groups: number of groups ``G`` (groups may be empty).

    Returns:
        ``(G + 1,)`` int64 offsets: rows of group ``g`` are
        ``offsets[g]:offsets[g + 1]``.
    """
    group_of_row = np.asarray(group_of_row, dtype=np.int64)
    return np.searchsorted(group_of_row, np.arange(num_groups + 1), side='left')


def expand_ranges(starts: np.ndarray, counts: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Concatenate ``arange(starts[i], starts[i] + counts[i])`` over ``i``.

    Args:
        starts: ``(k,)`` first index of each range.
        counts: ``(k,)`` length of each range (0 allowed).

    Returns:
        ``(indices, owner)``: the concatenated indices and, for each, the position
        ``i`` of the range it came from; both int64 of length ``counts.sum()``.
    """
    starts = np.asarray(starts, dtype=np.int64).ravel()
    counts = np.asarray(counts, dtype=np.int64).ravel()
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    ends = np.cumsum(counts)
    local = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)
    local -= np.repeat(ends - counts, counts)
    return starts[owner] + local, owner
