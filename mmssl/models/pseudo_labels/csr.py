"""Row selection in a CSR (compressed sparse row) positive-label matrix.

The pseudo multi-labels of Sec. 3.3 are stored as a CSR matrix over all ``N`` memory
rows: the positives of row ``r`` are ``indices[indptr[r]:indptr[r + 1]]``. These helpers
gather the slices of a few rows as flat tensors without a Python loop and without
building an ``N``-wide dense mask.

Plain torch; no mmdet import.
"""
from typing import List, Tuple

import torch
from torch import Tensor


def check_csr(indptr: Tensor, indices: Tensor, num_rows: int,
              num_cols: int, name: str = 'CSR matrix') -> None:
    """Check that ``(indptr, indices)`` is a valid ``num_rows x num_cols`` CSR matrix.

    Args:
        indptr: ``(num_rows + 1,)`` integer row pointers.
        indices: ``(nnz,)`` integer column indices.
        num_rows: expected number of rows.
        num_cols: columns must lie in ``[0, num_cols)``.
        name: what the matrix is, for error messages.

    Raises:
        ValueError: wrong shape or dtype, ``indptr`` not starting at 0, decreasing, or
            not ending at ``nnz``, or a column out of range (the message names the row).
    """
    if indptr.dim() != 1 or indptr.numel() != num_rows + 1:
        raise ValueError(f'{name}: indptr has shape {tuple(indptr.shape)}, expected '
                         f'({num_rows + 1},) for {num_rows} rows')
    if indices.dim() != 1:
        raise ValueError(f'{name}: indices has shape {tuple(indices.shape)}, '
                         'expected a 1-D tensor')
    if indptr.is_floating_point() or indices.is_floating_point():
        raise ValueError(f'{name}: indptr and indices must be integer tensors, got '
                         f'{indptr.dtype} and {indices.dtype}')
    if int(indptr[0]) != 0:
        raise ValueError(f'{name}: indptr[0] is {int(indptr[0])}, expected 0')
    if int(indptr[-1]) != indices.numel():
        raise ValueError(f'{name}: indptr[-1] is {int(indptr[-1])} but there are '
                         f'{indices.numel()} indices')
    lengths = indptr[1:] - indptr[:-1]
    if bool((lengths < 0).any()):
        row = int(torch.nonzero(lengths < 0)[0])
        raise ValueError(f'{name}: indptr decreases at row {row}')
    bad = (indices < 0) | (indices >= num_cols)
    if bool(bad.any()):
        pos = int(torch.nonzero(bad)[0])
        row = int(torch.searchsorted(indptr, torch.tensor(pos, dtype=indptr.dtype,
                                                          device=indptr.device),
                                     right=True)) - 1
        raise ValueError(f'{name}: row {row} has column {int(indices[pos])} out of '
                         f'range [0, {num_cols})')


def gather_csr_rows(indptr: Tensor, indices: Tensor,
                    rows: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Gather the CSR slices of ``rows`` as one flat list.

    Args:
        indptr: ``(N + 1,)`` int64 row pointers.
        indices: ``(nnz,)`` int64 column indices.
        rows: ``(q,)`` integer rows to gather, in ``[0, N)``.

    Returns:
        ``(segment, columns, lengths)``: ``columns`` holds the slices of ``rows[0]``,
        ``rows[1]``, ... one after the other; ``segment[k]`` is the position in
        ``rows`` that ``columns[k]`` belongs to; ``lengths`` ``(q,)`` the slice sizes.

    Raises:
        IndexError: a row out of range.
    """
    num_rows = indptr.numel() - 1
    rows = rows.to(device=indptr.device, dtype=torch.long)
    if rows.numel() and (int(rows.min()) < 0 or int(rows.max()) >= num_rows):
        bad = rows[(rows < 0) | (rows >= num_rows)][0]
        raise IndexError(f'row {int(bad)} out of range for a CSR matrix of '
                         f'{num_rows} rows')
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    segment = torch.repeat_interleave(
        torch.arange(rows.numel(), device=indptr.device), lengths)
    # offset of every gathered entry inside its own slice
    first = torch.cumsum(lengths, 0) - lengths
    offsets = torch.arange(segment.numel(), device=indptr.device) - first[segment]
    columns = indices[starts[segment] + offsets]
    return segment, columns, lengths


def select_csr_rows(indptr: Tensor, indices: Tensor,
                    rows: Tensor) -> Tuple[Tensor, Tensor]:
    """Sub-matrix of ``rows`` as a compact CSR matrix.

    Args:
        indptr: ``(N + 1,)`` int64 row pointers.
        indices: ``(nnz,)`` int64 column indices.
        rows: ``(q,)`` rows to keep, in the order wanted.

    Returns:
        ``(sub_indptr (q + 1,), sub_indices)``: row ``k`` of the result is row
        ``rows[k]`` of the input.
    """
    _, columns, lengths = gather_csr_rows(indptr, indices, rows)
    sub_indptr = torch.zeros(lengths.numel() + 1, dtype=torch.long,
                             device=indptr.device)
    torch.cumsum(lengths, 0, out=sub_indptr[1:])
    return sub_indptr, columns


def split_csr_rows(indptr: Tensor, indices: Tensor, rows: Tensor) -> List[Tensor]:
    """The CSR slices of ``rows``, one 1-D tensor per row."""
    _, columns, lengths = gather_csr_rows(indptr, indices, rows)
    return list(torch.split(columns, lengths.tolist()))
