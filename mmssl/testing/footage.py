"""Short videos for the gallery-index tests, written with OpenCV."""
from typing import Sequence

import cv2


def write_test_video(path: str, frames: Sequence[str], fps: float) -> str:
    """Write the image files ``frames`` (all of one size) as an MJPG ``.avi``.

    MJPG stores every frame as a key frame, so OpenCV seeks it exactly.

    Returns:
        ``path``.

    Raises:
        OSError: OpenCV could not write the video.
    """
    first = cv2.imread(str(frames[0]))
    height, width = first.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps,
                             (width, height))
    if not writer.isOpened():
        raise OSError(f'{path}: OpenCV cannot write an MJPG video')
    for frame in frames:
        writer.write(cv2.imread(str(frame)))
    writer.release()
    return str(path)
