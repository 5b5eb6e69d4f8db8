"""The colour-histogram floor: what re-id features must beat (a learning diagnostic).

A feature that knows nothing but clothing colour already tells many persons apart. The
HSV colour histogram of a person's crop (8 x 8 x 4 bins over hue, saturation and
value, square-rooted and L2-normalised, so that the dot product of two is their
Bhattacharyya coefficient) is the floor a learnt re-id feature should rise above on the
same boxes (:func:`~.neighbour_precision.neighbour_identity_precision`).

Plain numpy/OpenCV; no mmdet import.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np

#: Hue, saturation and value bins.
HISTOGRAM_BINS = (8, 8, 4)


def hsv_histogram(crop: np.ndarray,
                  bins: Tuple[int, int, int] = HISTOGRAM_BINS) -> np.ndarray:
    """Square-rooted, L2-normalised HSV histogram of a BGR uint8 crop.

    Returns:
        ``(prod(bins),)`` float32 unit vector (zeros for an empty crop).
    """
    size = int(np.prod(bins))
    if crop.size == 0:
        return np.zeros(size, np.float32)
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    histogram = cv2.calcHist([hsv], [0, 1, 2], None, list(bins),
                             [0, 180, 0, 256, 0, 256]).reshape(-1)
    histogram = np.sqrt(histogram / max(histogram.sum(), 1.0))
    norm = np.linalg.norm(histogram)
    return (histogram / norm if norm > 0 else histogram).astype(np.float32)


def crop_histograms(image_paths: Sequence[str], boxes: np.ndarray,
                    image_index: np.ndarray,
                    bins: Tuple[int, int, int] = HISTOGRAM_BINS) -> np.ndarray:
    """The :func:`hsv_histogram` of every box, reading each image once.

    Args:
        image_paths: the image files.
        boxes: ``(N, 4)`` ``x1, y1, x2, y2`` boxes in original image pixels
            (clipped to the image).
        image_index: ``(N,)`` position in ``image_paths`` of each box's image.
        bins: histogram bins.

    Returns:
        ``(N, prod(bins))`` float32.

    Raises:
        OSError: an image cannot be read (names the file).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    image_index = np.asarray(image_index, dtype=np.int64).reshape(-1)
    out = np.zeros((len(boxes), int(np.prod(bins))), np.float32)
    for image in np.unique(image_index):
        path = image_paths[int(image)]
        pixels = cv2.imread(path, cv2.IMREAD_COLOR)
        if pixels is None:
            raise OSError(f'{path}: cannot read the image for its colour '
                          'histograms')
        height, width = pixels.shape[:2]
        for row in np.flatnonzero(image_index == image):
            x1, y1, x2, y2 = boxes[row]
            x1, x2 = int(np.clip(x1, 0, width)), int(np.clip(np.ceil(x2), 0, width))
            y1, y2 = int(np.clip(y1, 0, height)), int(np.clip(np.ceil(y2), 0,
                                                               height))
            out[row] = hsv_histogram(pixels[y1:y2, x1:x2], bins)
    return out
