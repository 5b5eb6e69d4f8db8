"""The precision and place of exact-search proposals, and how wrong they can be.

:class:`~mmssl.labels.neighbour_search.NeighbourSearch` computes candidate
similarities with torch, on GPU 0 in float32 when torch sees CUDA, else on the CPU
in bfloat16 where oneDNN multiplies it natively (else float32), then re-scores the
candidates canonically. :func:`proposal_error` bounds the difference between a
proposed similarity and the canonical one, so that the search knows which rows it
must search again: the precision changes the work, never the result.
"""
from typing import Optional

import numpy as np
import torch


def proposal_device() -> torch.device:
    """GPU 0 when torch sees CUDA, else the CPU."""
    return torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')


def proposal_dtype(device: torch.device = torch.device('cpu')) -> torch.dtype:
    """float32 on a GPU; on the CPU bfloat16 where oneDNN multiplies it natively,
    else float32."""
    if device.type != 'cpu':
        return torch.float32
    native = getattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported', None)
    if torch.backends.mkldnn.is_available() and native is not None and native():
        return torch.bfloat16
    return torch.float32


def products(left: torch.Tensor, right: torch.Tensor,
             out: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``left @ right.T`` (into ``out`` when given, of shape ``(len(left),
    len(right))``); on a GPU with TF32 off (its 10-bit products would break the
    error bound), whatever the caller's setting."""
    if left.device.type != 'cuda':
        return torch.mm(left, right.T, out=out)
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        return torch.mm(left, right.T, out=out)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32


class ProposalRows:
    """Rows in the proposal precision and place, with what :func:`proposal_error`
    needs of them: their norms and rounding errors (float64).

    Args:
        rows: ``(n, d)`` float32 rows.
        dtype: the proposal precision.
        device: where the proposals are computed.
    """

    def __init__(self, rows: np.ndarray, dtype: torch.dtype,
                 device: torch.device):
        rounded = torch.from_numpy(rows).to(dtype)
        self.matrix = rounded.to(device)
        self.norms = np.sqrt(np.einsum('ij,ij->i', rows, rows, dtype=np.float64))
        if dtype == torch.float32:
            self.errors = np.zeros(len(rows))
        else:
            # || rounded row - row ||: the difference is exact in float32 (the two
            # are within a factor 2 of each other, Sterbenz), squares summed in
            # float64 (rounding up by a relative 1e-15 is far below the 1e-7
            # margin of the bound)
            change = rounded.float().numpy() - rows
            self.errors = np.sqrt(np.einsum('ij,ij->i', change, change,
                                            dtype=np.float64))


def proposal_error(query: ProposalRows, database: ProposalRows, rows: np.ndarray,
                   proposed: np.ndarray) -> np.ndarray:
    """Bound on ``|proposed - s|`` for proposals ``proposed`` of query ``rows``
    against ``database``, ``s`` the canonical similarity.

    With ``q~, x~`` the rows rounded to the proposal precision (unit roundoff
    ``u``, 0 in float32), ``e = ||q~ - q||`` and ``E = max ||x~ - x||`` over the
    database, Cauchy-Schwarz gives ``|<q~, x~> - <q, x>| <= |q| E +
    e (|x| + E)``; the float32 accumulation adds at most
    ``gamma_d |q~| |x~|`` (``gamma_d = d 2^-24 / (1 - d 2^-24)``) and the
    rounding of the result ``u |proposed| / (1 - u)``. ``proposed`` broadcasts
    against ``rows[:, None]``.
    """
    dtype = database.matrix.dtype
    unit = 2.0 ** -8 if dtype == torch.bfloat16 else 0.0
    dim = database.matrix.shape[1]
    gamma = dim * 2.0 ** -24 / (1.0 - dim * 2.0 ** -24)
    norm_q, error_q = query.norms[rows], query.errors[rows]
    norm_x, error_x = database.norms.max(), database.errors.max()
    bound = (norm_q * error_x + error_q * (norm_x + error_x)
             + gamma * (norm_q + error_q) * (norm_x + error_x))
    bound = bound.reshape(bound.shape + (1,) * (np.ndim(proposed) - 1))
    return bound + unit / (1.0 - unit) * np.abs(proposed) + 1e-7
