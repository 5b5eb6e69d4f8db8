"""Image sizes from the file header, without decoding (PIL).

Plain functions; no mmdet import.
"""
import os.path as osp
from typing import Tuple

from PIL import Image

UNKNOWN_SIZE = -1
"""``height`` and ``width`` of a record built without reading its image."""

IMAGE_END_MARKERS = {'JPEG': b'\xff\xd9', 'PNG': b'IEND'}
"""The end-of-image marker of a format: JPEG's EOI, PNG's last chunk type."""

IMAGE_TAIL_BYTES = 1024
"""How far from a file's end :func:`read_image_size` looks for the end marker."""


def read_image_size(path: str) -> Tuple[int, int]:
    """Return ``(width, height)`` of an image from its header only (PIL, no decode).

    A JPEG or PNG must also hold its end-of-image marker (JPEG ``FF D9``, PNG
    ``IEND``) within its last ``IMAGE_TAIL_BYTES`` bytes: a file cut short keeps a
    readable header, and some decoders fill the missing part with grey.

    Raises:
        FileNotFoundError: the image is missing (the message names it).
        ValueError: the file is not an image PIL can identify, or is truncated.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: image file not found')
    try:
        with Image.open(path) as image:
            size, image_format = image.size, image.format
    except Exception as err:  # PIL.UnidentifiedImageError and OSError
        raise ValueError(f'{path}: not a readable image ({err})') from err
    marker = IMAGE_END_MARKERS.get(image_format)
    if marker is not None:
        with open(path, 'rb') as f:
            f.seek(max(osp.getsize(path) - IMAGE_TAIL_BYTES, 0))
            tail = f.read()
        if marker not in tail:
            raise ValueError(
                f'{path}: truncated {image_format} file (no end-of-image marker '
                f'in its last {IMAGE_TAIL_BYTES} bytes); replace or re-encode it')
    return size
