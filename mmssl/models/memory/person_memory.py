"""The two memory banks of dynamic multi-label learning (Sec. 3.3, Eq. 5-6).

``M_I`` (``instance_feats``) stores the RoI features ``f_i`` of the main branch,
``M_M`` (``exemplar_feats``) the mean exemplar features ``f_i^h``; both are ``N x d``
float32 buffers, so they travel in checkpoints, and every rank of a distributed run
holds identical copies (updates are gathered from all ranks and applied in rank order).
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine import dist
from torch import Tensor, nn

from .distributed import all_gather_rows
from .row_updates import assign_rows, momentum_update_rows

IndexLike = Union[Tensor, np.ndarray, Sequence[int]]


@MODELS.register_module()
class PersonMemory(nn.Module):
    """Memory banks ``M_I`` and ``M_M`` with the momentum update of Eq. 5.

    Buffers:
        instance_feats: ``(N, d)`` float32, ``M_I``, rows of unit length (or zero
            before they are first written).
        exemplar_feats: ``(N, d)`` float32, ``M_M``, same.
        initialised: bool scalar, set by :meth:`mark_initialised` once the
            initialisation pass has filled every row.

    Every write re-normalises the written rows to unit length, so that
    ``S = M M^T`` (Eq. 7) is a cosine similarity.

    Distributed runs: :meth:`update` and :meth:`fill` are collective. Every rank must
    call them at the same point (a rank without persons passes empty tensors). The
    ``(index, feature)`` rows of all ranks are gathered with padded
    :func:`mmengine.dist.all_gather` (counts first, then the rows padded to the
    largest count: no pickling, works on gloo and NCCL) and applied on every rank in
    rank order, so all ranks end with identical banks. A row that several ranks (or
    one rank twice) update in one call receives the updates one after the other, in
    rank order.

    Args:
        num_samples: ``N``, the number of training boxes; may be 0 at construction
            (see :meth:`resize` and checkpoint loading).
        feat_dim: ``d``, the embedding size.
        momentum: ``lambda`` of Eq. 5, the weight of the new feature.
    """

    def __init__(self, num_samples: int = 0, feat_dim: int = 256,
                 momentum: float = 0.8) -> None:
        super().__init__()
        if num_samples < 0 or feat_dim <= 0:
            raise ValueError(f'PersonMemory: num_samples must be >= 0 and feat_dim '
                             f'> 0, got {num_samples} and {feat_dim}')
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'PersonMemory: momentum must lie in [0, 1], got '
                             f'{momentum}')
        self.momentum = float(momentum)
        self.register_buffer('instance_feats',
                             torch.zeros(num_samples, feat_dim, dtype=torch.float32))
        self.register_buffer('exemplar_feats',
                             torch.zeros(num_samples, feat_dim, dtype=torch.float32))
        self.register_buffer('initialised', torch.tensor(False))

    @property
    def num_samples(self) -> int:
        """``N``, the number of rows of each bank."""
        return self.instance_feats.shape[0]

    @property
    def feat_dim(self) -> int:
        """``d``, the feature size."""
        return self.instance_feats.shape[1]

    def extra_repr(self) -> str:
        return (f'num_samples={self.num_samples}, feat_dim={self.feat_dim}, '
                f'momentum={self.momentum}')

    def resize(self, num_samples: int, feat_dim: Optional[int] = None) -> None:
        """Give both banks ``num_samples`` rows (and ``feat_dim`` columns).

        Nothing happens when the shape is already right. Otherwise both banks become
        zeros of the new shape and ``initialised`` is cleared: rows of a differently
        sized training set do not correspond. The buffers keep their identity
        (their storage is replaced in place), so a wrapper that cached them, such as
        DistributedDataParallel, still sees the live tensors.

        Args:
            num_samples: new ``N`` (>= 0).
            feat_dim: new ``d``; ``None`` keeps the current one.
        """
        feat_dim = self.feat_dim if feat_dim is None else int(feat_dim)
        num_samples = int(num_samples)
        if num_samples < 0 or feat_dim <= 0:
            raise ValueError(f'PersonMemory.resize: bad shape ({num_samples}, '
                             f'{feat_dim})')
        if tuple(self.instance_feats.shape) == (num_samples, feat_dim) and tuple(
                self.exemplar_feats.shape) == (num_samples, feat_dim):
            return
        for buf in (self.instance_feats, self.exemplar_feats):
            buf.data = torch.zeros(num_samples, feat_dim, dtype=torch.float32,
                                   device=buf.device)
        self.initialised.fill_(False)

    @torch.no_grad()
    def mark_initialised(self, value: bool = True) -> None:
        """Set the ``initialised`` flag (after the initialisation pass)."""
        self.initialised.fill_(bool(value))

    @torch.no_grad()
    def update(self, indices: IndexLike, instance_feats: Optional[Tensor] = None,
               exemplar_feats: Optional[Tensor] = None) -> None:
        """Momentum update of Eq. 5 for the given rows, then re-normalisation.

        ``M_I[i] = lambda * f_i + (1 - lambda) * M_I[i]`` and
        ``M_M[i] = lambda * f_i^h + (1 - lambda) * M_M[i]``, each row then scaled to
        unit length. Collective in a distributed run (see the class docstring).

        Args:
            indices: ``(n,)`` memory rows (the boxes' ``instance_index``).
            instance_feats: ``(n, d)`` main-branch features ``f_i``, or ``None`` to
                leave ``M_I`` alone.
            exemplar_feats: ``(n, d)`` mean exemplar features ``f_i^h``, or ``None``
                to leave ``M_M`` alone.
        """
        banks = self._gather(indices, instance_feats, exemplar_feats, 'update')
        for bank, (rows, feats) in zip((self.instance_feats, self.exemplar_feats),
                                       banks):
            if rows is not None:
                momentum_update_rows(bank, rows, feats, self.momentum)

    @torch.no_grad()
    def fill(self, indices: IndexLike, instance_feats: Optional[Tensor] = None,
             exemplar_feats: Optional[Tensor] = None) -> None:
        """Set rows directly (the initialisation pass), normalised to unit length.

        Collective in a distributed run, like :meth:`update`. Does not set
        ``initialised``: call :meth:`mark_initialised` when every row is filled.

        Args:
            indices: ``(n,)`` memory rows.
            instance_feats: ``(n, d)`` values for ``M_I``, or ``None``.
            exemplar_feats: ``(n, d)`` values for ``M_M``, or ``None``.
        """
        banks = self._gather(indices, instance_feats, exemplar_feats, 'fill')
        for bank, (rows, feats) in zip((self.instance_feats, self.exemplar_feats),
                                       banks):
            if rows is not None:
                assign_rows(bank, rows, feats, normalize=True)

    def combined(self) -> Tensor:
        """``M = mean(M_M, M_I)`` of Eq. 6, re-normalised to unit rows.

        The paper compares rows of ``M`` by ``S = M M^T`` against cosine thresholds
        (Eq. 7-9), which needs unit rows; the mean of two unit vectors is shorter, so
        each row is re-normalised (zero rows stay zero).

        Returns:
            ``(N, d)`` float32 tensor (a new tensor, not a view of the buffers).
        """
        return F.normalize((self.instance_feats + self.exemplar_feats) * 0.5, dim=1)

    def _check_indices(self, indices: IndexLike, what: str) -> Tensor:
        indices = torch.as_tensor(indices, device=self.instance_feats.device)
        if indices.dim() != 1 or indices.is_floating_point() or indices.dtype == \
                torch.bool:
            raise ValueError(f'PersonMemory.{what}: indices must be a 1-D integer '
                             f'tensor, got shape {tuple(indices.shape)} and dtype '
                             f'{indices.dtype}')
        indices = indices.long()
        if indices.numel():
            bad = (indices < 0) | (indices >= self.num_samples)
            if bool(bad.any()):
                raise IndexError(
                    f'PersonMemory.{what}: instance index {int(indices[bad][0])} is '
                    f'out of range for a memory of {self.num_samples} rows')
        return indices

    def _check_feats(self, feats: Optional[Tensor], n: int, name: str,
                     what: str) -> Optional[Tensor]:
        if feats is None:
            return None
        if feats.dim() != 2 or feats.shape[0] != n or feats.shape[1] != self.feat_dim:
            raise ValueError(f'PersonMemory.{what}: {name} has shape '
                             f'{tuple(feats.shape)}, expected ({n}, {self.feat_dim})')
        return feats.detach().to(device=self.instance_feats.device,
                                 dtype=torch.float32)

    def _gather(
        self, indices: IndexLike, instance_feats: Optional[Tensor],
        exemplar_feats: Optional[Tensor], what: str
    ) -> List[Tuple[Optional[Tensor], Optional[Tensor]]]:
        """Check the inputs and gather ``(rows, feats)`` per bank from all ranks.

        Returns ``[(rows, feats) for M_I, (rows, feats) for M_M]`` in rank order;
        ``(None, None)`` for a bank no rank writes.
        """
        indices = self._check_indices(indices, what)
        n = indices.numel()
        inst = self._check_feats(instance_feats, n, 'instance_feats', what)
        exem = self._check_feats(exemplar_feats, n, 'exemplar_feats', what)
        if dist.get_world_size() == 1:
            return [(indices if f is not None else None, f) for f in (inst, exem)]

        device = self.instance_feats.device
        header = torch.tensor([n, inst is not None, exem is not None],
                              dtype=torch.long, device=device)
        headers = [h.tolist() for h in dist.all_gather(header)]
        counts = [h[0] for h in headers]
        zeros = torch.zeros(n, self.feat_dim, dtype=torch.float32, device=device)
        payload = torch.cat([inst if inst is not None else zeros,
                             exem if exem is not None else zeros], dim=1)
        all_indices = all_gather_rows(indices, counts)
        all_payload = all_gather_rows(payload, counts)
        banks = []
        for bank_no in range(2):
            ranks = [r for r, h in enumerate(headers) if h[1 + bank_no]]
            if not ranks:
                banks.append((None, None))
                continue
            cols = slice(bank_no * self.feat_dim, (bank_no + 1) * self.feat_dim)
            banks.append((torch.cat([all_indices[r] for r in ranks]),
                          torch.cat([all_payload[r][:, cols] for r in ranks])))
        return banks

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs) -> None:
        """Resize the banks to the checkpoint's shape, then load as usual."""
        saved = state_dict.get(prefix + 'instance_feats')
        if isinstance(saved, Tensor) and saved.dim() == 2:
            self.resize(saved.shape[0], saved.shape[1])
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
