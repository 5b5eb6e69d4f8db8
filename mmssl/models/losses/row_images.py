"""Which memory rows are boxes of one image, learnt from the batches the model sees.

The per-iteration multi-labels (:func:`~mmssl.models.losses.batch_multilabels`)
need the image of every memory row for the exclusion of Eq. 10, and the model sees
only batches. Every person-search dataset numbers the boxes image by image, in record
order (``instance_index``, docs/internals.md), so the rows of one image are one
contiguous block, and a batch that holds an image holds the block's first and last
row. :class:`RowImages` keeps where blocks start: at first every row is an image of
its own, and each image seen (the memory-bank fill pass sees all of them before
training) joins its block.
"""
from typing import Optional

import torch
from mmengine import dist
from torch import Tensor, nn


class RowImages(nn.Module):
    """Image blocks of the ``N`` memory rows, as a buffer checkpoints carry.

    Buffers:
        starts: ``(N,)`` bool, True where a row is the first box of its image
            (every row until the image is seen).

    Args:
        num_rows: ``N``; may be 0 at construction (:meth:`record` resizes to the
            memory, checkpoint loading to the checkpoint's size).
    """

    def __init__(self, num_rows: int = 0) -> None:
        super().__init__()
        self.register_buffer('starts', torch.ones(num_rows, dtype=torch.bool))

    @property
    def num_rows(self) -> int:
        """``N``."""
        return self.starts.shape[0]

    def resize(self, num_rows: int) -> None:
        """Hold ``num_rows`` rows, each its own image (nothing happens if
        unchanged)."""
        if int(num_rows) != self.num_rows:
            self.starts.data = torch.ones(int(num_rows), dtype=torch.bool,
                                          device=self.starts.device)

    @torch.no_grad()
    def record(self, rows: Tensor, image_ids: Tensor,
               num_rows: Optional[int] = None) -> None:
        """Join the rows of every image of a batch into one block.

        Args:
            rows: ``(P,)`` memory rows of the batch persons.
            image_ids: ``(P,)`` image of each person within the batch.
            num_rows: ``N`` of the memory; the buffer is reset to it first when
                it differs (the memory was resized).

        Raises:
            ValueError: the rows of two batch images interleave (the dataset does
                not number its boxes image by image).
        """
        if num_rows is not None:
            self.resize(num_rows)
        rows = rows.to(self.starts.device).long()
        if rows.numel() == 0:
            return
        _, image = torch.unique(image_ids.to(rows.device), return_inverse=True)
        num_images = int(image.max()) + 1
        low = torch.full((num_images, ), self.num_rows, dtype=torch.long,
                         device=rows.device).scatter_reduce(0, image, rows, 'amin')
        high = torch.full((num_images, ), -1, dtype=torch.long,
                          device=rows.device).scatter_reduce(0, image, rows, 'amax')
        by_low = torch.argsort(low)
        if bool((low[by_low][1:] <= high[by_low][:-1]).any()):
            raise ValueError('RowImages.record: the rows of two images of the batch '
                             'interleave; the dataset must number the boxes image by '
                             'image (instance_index in record order)')
        # rows low + 1 .. high of each image are no start: a difference array
        marks = torch.zeros(self.num_rows + 1, dtype=torch.long, device=rows.device)
        marks.index_add_(0, low + 1, torch.ones_like(low))
        marks.index_add_(0, high + 1, -torch.ones_like(high))
        inside = torch.cumsum(marks, 0)[:-1] > 0
        self.starts &= ~inside

    @torch.no_grad()
    def image_keys(self) -> Tensor:
        """``(N,)`` int64 image of every row: the number of its block.

        Collective in a distributed run: every rank saw other images, so the
        ranks first agree on the blocks (a row starts a block only if it does on
        every rank). Every rank must call it at the same point.
        """
        starts = self.starts.to(torch.int32)
        if dist.get_world_size() > 1:
            dist.all_reduce(starts, op='min')
            self.starts.copy_(starts.bool())
        return torch.cumsum(starts.long(), 0) - 1

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs) -> None:
        """Resize the buffer to the checkpoint's size, then load as usual."""
        starts = state_dict.get(prefix + 'starts')
        if isinstance(starts, Tensor) and starts.dim() == 1:
            self.resize(starts.numel())
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
