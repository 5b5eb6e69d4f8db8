"""Scale augmentation of the multi-scale exemplar branch (paper Sec. 3.2, Eq. 1)."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def make_exemplar_crops(
    image: Tensor,
    boxes: Tensor,
    masks: Optional[Tensor],
    scales: Sequence[Tuple[int, int]],
    background: Tensor,
) -> Tuple[List[Tensor], List[Tensor]]:
    """Crop, mask and resize every person of one image (Eq. 1).

    ``x_s = T(x_o * mask, s)``: the person's crop ``x_o`` is multiplied by its
    foreground mask (pixels outside the mask take ``background``, the normalised value
    of a black pixel, which is what multiplying the raw image by 0 gives), then
    bilinearly resized to each scale ``s``.

    Args:
        image: The (normalised, augmented) input image ``(3, H, W)``.
        boxes: Person boxes ``(P, 4)`` as ``x1, y1, x2, y2`` in ``image``'s pixels.
        masks: Full-image foreground masks ``(P, H', W')`` (``H' >= H`` and
            ``W' >= W`` is allowed: padded masks are cropped), or None for no masking
            (the unmasked ablation).
        scales: Target sizes ``(height, width)``, e.g. ``[(112, 48), (224, 96)]``.
        background: ``(3,)`` value for masked-out pixels.

    Returns:
        ``(originals, scaled)``: ``originals`` is a list of ``P`` masked crops at their
        original size ``(3, h_i, w_i)``; ``scaled[k]`` is ``(P, 3, h_k, w_k)``.
    """
    _, height, width = image.shape
    bg = background.view(3, 1, 1).to(image)
    originals = []
    for p in range(boxes.shape[0]):
        x1, y1, x2, y2 = boxes[p].tolist()
        left = min(max(int(x1), 0), width - 1)
        top = min(max(int(y1), 0), height - 1)
        right = max(min(int(round(x2 + 0.4999)), width), left + 1)
        bottom = max(min(int(round(y2 + 0.4999)), height), top + 1)
        crop = image[:, top:bottom, left:right]
        if masks is not None:
            mask = masks[p, top:bottom, left:right].to(image).unsqueeze(0)
            crop = crop * mask + bg * (1 - mask)
        originals.append(crop)
    scaled = []
    for out_h, out_w in scales:
        if originals:
            resized = [
                F.interpolate(c.unsqueeze(0), size=(int(out_h), int(out_w)),
                              mode='bilinear', align_corners=False)
                for c in originals
            ]
            scaled.append(torch.cat(resized))
        else:
            scaled.append(image.new_zeros((0, 3, int(out_h), int(out_w))))
    return originals, scaled


def pad_crops(crops: Sequence[Tensor], background: Tensor,
              size_divisor: int = 1) -> Tuple[Tensor, Tensor]:
    """Stack crops of different sizes into one batch padded with ``background``.

    Args:
        crops: ``(3, h_i, w_i)`` tensors.
        background: ``(3,)`` padding value.
        size_divisor: Pad the batch's height and width up to a multiple of this.

    Returns:
        ``(batch, boxes)``: the ``(n, 3, H, W)`` batch and the ``(n, 4)`` boxes
        ``0, 0, w_i, h_i`` of each crop inside it.
    """
    if not crops:
        raise ValueError('pad_crops needs at least one crop')
    max_h = max(c.shape[1] for c in crops)
    max_w = max(c.shape[2] for c in crops)
    max_h = -(-max_h // size_divisor) * size_divisor
    max_w = -(-max_w // size_divisor) * size_divisor
    first = crops[0]
    batch = background.view(1, 3, 1, 1).to(first).repeat(len(crops), 1, max_h, max_w)
    boxes = first.new_zeros((len(crops), 4))
    for i, c in enumerate(crops):
        batch[i, :, :c.shape[1], :c.shape[2]] = c
        boxes[i, 2] = c.shape[2]
        boxes[i, 3] = c.shape[1]
    return batch, boxes


def bucket_crops(crops: Sequence[Tensor], background: Tensor,
                 size_divisor: int = 32) -> List[Tuple[Tensor, Tensor, Tensor]]:
    """Group crops of similar size into padded batches.

    Padding every original-scale crop to the largest one of the batch makes a small
    person cost as much as the largest; here each crop is padded only up to the next
    multiple of ``size_divisor`` and crops of equal padded size share a batch.

    Returns:
        A list of ``(batch, boxes, positions)``: a padded batch (see
        :func:`pad_crops`), the ``0, 0, w, h`` box of each crop in it, and the
        crops' positions in ``crops``.
    """
    groups = {}
    for i, crop in enumerate(crops):
        key = (-(-crop.shape[1] // size_divisor), -(-crop.shape[2] // size_divisor))
        groups.setdefault(key, []).append(i)
    buckets = []
    for positions in groups.values():
        batch, boxes = pad_crops([crops[i] for i in positions], background,
                                 size_divisor)
        buckets.append((batch, boxes,
                        torch.as_tensor(positions, device=batch.device)))
    return buckets
