"""The pseudo labels of the current epoch, kept in the model as buffers.

Cluster labels (DBSCAN over ``M``, Sec. 3.3 "cluster level") and the dynamic
multi-labels (Eq. 8-10: the positive set ``P_i`` of every memory row, as a CSR matrix)
are computed by the pseudo-label hook, usually on rank 0, and broadcast to the other
ranks. Buffers, not dataset attributes: dataloader workers never see them, and they
travel in checkpoints.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmdet.registry import MODELS
from mmengine import dist
from torch import Tensor, nn

from .csr import check_csr, select_csr_rows, split_csr_rows

ArrayLike = Union[Tensor, np.ndarray, Sequence[int]]


@MODELS.register_module()
class PseudoLabelStore(nn.Module):
    """Cluster labels and multi-label positive sets of the ``N`` memory rows.

    Buffers:
        cluster_labels: ``(N,)`` int64 cluster of every row; -1 = no label (before
            the first clustering).
        multilabel_indptr: ``(N + 1,)`` int64 CSR row pointers of the positive sets.
        multilabel_indices: ``(nnz,)`` int64 CSR columns: the positive set ``P_i``
            of row ``i`` is ``multilabel_indices[indptr[i]:indptr[i + 1]]`` (the
            row itself included, Eq. 8 with ``s_ii = 1``).
        epoch: int64 scalar, the epoch the labels were computed for; -1 = none yet.
        threshold: float64 scalar, the threshold ``t`` of Eq. 9 used; NaN = none.

    Args:
        num_samples: ``N``; may be 0 at construction (see :meth:`resize` and
            checkpoint loading, which resizes to the checkpoint's shapes).
    """

    #: Buffers that a valid checkpoint may hold as NaN (``threshold`` before the
    #: first labels); ``InvalidLossHook`` allows them.
    non_finite_buffers = ('threshold', )

    def __init__(self, num_samples: int = 0) -> None:
        super().__init__()
        if num_samples < 0:
            raise ValueError(f'PseudoLabelStore: num_samples must be >= 0, got '
                             f'{num_samples}')
        self.register_buffer('cluster_labels',
                             torch.full((num_samples, ), -1, dtype=torch.long))
        self.register_buffer('multilabel_indptr',
                             torch.zeros(num_samples + 1, dtype=torch.long))
        self.register_buffer('multilabel_indices', torch.zeros(0, dtype=torch.long))
        self.register_buffer('epoch', torch.tensor(-1, dtype=torch.long))
        self.register_buffer('threshold', torch.tensor(float('nan'),
                                                       dtype=torch.float64))

    @property
    def num_samples(self) -> int:
        """``N``, the number of memory rows labelled."""
        return self.cluster_labels.shape[0]

    @property
    def has_labels(self) -> bool:
        """Whether :meth:`set` (or a checkpoint, or a broadcast) gave labels."""
        return int(self.epoch) >= 0

    @property
    def has_cluster_labels(self) -> bool:
        """Whether at least one row has a cluster label (>= 0)."""
        return bool((self.cluster_labels >= 0).any())

    def extra_repr(self) -> str:
        return (f'num_samples={self.num_samples}, '
                f'nnz={self.multilabel_indices.numel()}, epoch={int(self.epoch)}')

    def _reshape(self, num_samples: int, nnz: int) -> None:
        """Give the buffers new shapes (contents cleared), keeping their identity."""
        device = self.cluster_labels.device
        self.cluster_labels.data = torch.full((num_samples, ), -1, dtype=torch.long,
                                              device=device)
        self.multilabel_indptr.data = torch.zeros(num_samples + 1, dtype=torch.long,
                                                  device=device)
        self.multilabel_indices.data = torch.zeros(nnz, dtype=torch.long,
                                                   device=device)
        self.epoch.fill_(-1)
        self.threshold.fill_(float('nan'))

    def resize(self, num_samples: int) -> None:
        """Hold ``num_samples`` rows with no labels (nothing happens if unchanged)."""
        if int(num_samples) < 0:
            raise ValueError(f'PseudoLabelStore.resize: num_samples must be >= 0, '
                             f'got {num_samples}')
        if int(num_samples) != self.num_samples:
            self._reshape(int(num_samples), 0)

    def clear(self) -> None:
        """Forget the labels (keeps ``N``)."""
        self._reshape(self.num_samples, 0)

    @torch.no_grad()
    def set(self, cluster_labels: Optional[ArrayLike], indptr: ArrayLike,
            indices: ArrayLike, epoch: int, threshold: float) -> None:
        """Store new labels.

        Args:
            cluster_labels: ``(N,)`` integer cluster labels, -1 for none; ``None``
                stores -1 everywhere (multi-labels only).
            indptr: ``(N + 1,)`` CSR row pointers of the positive sets.
            indices: ``(nnz,)`` CSR columns in ``[0, N)``.
            epoch: the epoch the labels belong to (>= 0).
            threshold: the threshold ``t`` of Eq. 9 used for the multi-labels.

        Raises:
            ValueError: inconsistent sizes, a malformed CSR matrix, or a cluster label
                below -1; the message names the offending row.
        """
        device = self.cluster_labels.device
        indptr = torch.as_tensor(indptr).to(device=device)
        indices = torch.as_tensor(indices).to(device=device)
        num_samples = indptr.numel() - 1
        if cluster_labels is None:
            labels = torch.full((max(num_samples, 0), ), -1, dtype=torch.long,
                                device=device)
        else:
            labels = torch.as_tensor(cluster_labels).to(device=device)
            if labels.dim() != 1 or labels.is_floating_point():
                raise ValueError(f'PseudoLabelStore.set: cluster_labels must be a 1-D '
                                 f'integer array, got shape {tuple(labels.shape)} '
                                 f'and dtype {labels.dtype}')
            if labels.numel() and int(labels.min()) < -1:
                row = int(torch.nonzero(labels < -1)[0])
                raise ValueError(f'PseudoLabelStore.set: cluster label '
                                 f'{int(labels[row])} of row {row} is below -1')
        num_samples = labels.numel()
        check_csr(indptr, indices, num_samples, num_samples,
                  'PseudoLabelStore.set multi-labels')
        if int(epoch) < 0:
            raise ValueError(f'PseudoLabelStore.set: epoch must be >= 0, got {epoch}')
        self._reshape(num_samples, indices.numel())
        self.cluster_labels.copy_(labels)
        self.multilabel_indptr.copy_(indptr)
        self.multilabel_indices.copy_(indices)
        self.epoch.fill_(int(epoch))
        self.threshold.fill_(float(threshold))

    def positives(self, rows: ArrayLike) -> List[Tensor]:
        """The positive set ``P_i`` of each row in ``rows``, one tensor per row."""
        return split_csr_rows(self.multilabel_indptr, self.multilabel_indices,
                              torch.as_tensor(rows))

    def positives_csr(self, rows: ArrayLike) -> Tuple[Tensor, Tensor]:
        """The positive sets of ``rows`` as a compact CSR ``(indptr, indices)``."""
        return select_csr_rows(self.multilabel_indptr, self.multilabel_indices,
                               torch.as_tensor(rows))

    @torch.no_grad()
    def broadcast(self, src: int = 0) -> None:
        """Copy rank ``src``'s labels to every rank (collective; no-op when alone).

        The sizes ``(N, nnz)`` go first so that the other ranks can resize their
        buffers, then the tensors.
        """
        if dist.get_world_size() == 1:
            return
        device = self.cluster_labels.device
        sizes = torch.tensor([self.num_samples, self.multilabel_indices.numel()],
                             dtype=torch.long, device=device)
        dist.broadcast(sizes, src)
        if dist.get_rank() != src:
            num_samples, nnz = (int(v) for v in sizes)
            if (num_samples, nnz) != (self.num_samples,
                                      self.multilabel_indices.numel()):
                self._reshape(num_samples, nnz)
        for buf in (self.cluster_labels, self.multilabel_indptr,
                    self.multilabel_indices, self.epoch, self.threshold):
            if buf.numel():  # every rank knows the sizes: all skip alike
                dist.broadcast(buf, src)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs) -> None:
        """Resize the buffers to the checkpoint's shapes, then load as usual."""
        labels = state_dict.get(prefix + 'cluster_labels')
        indices = state_dict.get(prefix + 'multilabel_indices')
        if isinstance(labels, Tensor) and labels.dim() == 1:
            nnz = indices.numel() if isinstance(indices, Tensor) else 0
            if (labels.numel(), nnz) != (self.num_samples,
                                         self.multilabel_indices.numel()):
                self._reshape(labels.numel(), nnz)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
