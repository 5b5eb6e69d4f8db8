"""Footage for a gallery index: the images of a folder, the frames of a video.

Frames are decoded with OpenCV (BGR, as mmcv reads images). A file or frame that
cannot be decoded is skipped with a logged warning naming it; nothing is dropped
silently. Plain OpenCV and numpy, no mmdet.
"""
import logging
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.mpg', '.mpeg', '.m4v',
                    '.wmv', '.flv', '.ts')


def warn(message: str) -> None:
    """Log a warning through MMEngine's current logger."""
    print_log(message, logger='current', level=logging.WARNING)


def list_images(folder: str, recursive: bool = True) -> List[str]:
    """Image files of a folder (and its sub-folders), sorted by path.

    Raises:
        FileNotFoundError: no such folder.
        ValueError: it holds no image file.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{folder}: image folder not found')
    files = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        files += [osp.join(root, name) for name in names
                  if name.lower().endswith(IMAGE_EXTENSIONS)]
        if not recursive:
            break
    if not files:
        raise ValueError(f'{folder}: no image files ({", ".join(IMAGE_EXTENSIONS)})')
    return sorted(files)


def read_image(path: str) -> Optional[np.ndarray]:
    """Decode an image file; None (with a warning naming it) when unreadable."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        warn(f'{path}: unreadable image, skipped')
        return None
    return image


@dataclass
class VideoInfo:
    """What OpenCV reports of a video: ``fps`` (0 when unknown), the frame count
    (approximate for some containers), and the frame size."""
    fps: float
    num_frames: int
    width: int
    height: int


def open_video(path: str) -> Tuple[Optional[cv2.VideoCapture], Optional[VideoInfo]]:
    """Open a video; ``(None, None)`` with a warning naming it when unreadable."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: video file not found')
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        capture.release()
        warn(f'{path}: unreadable video, skipped')
        return None, None
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    info = VideoInfo(fps=fps if np.isfinite(fps) and fps > 0 else 0.0,
                     num_frames=max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0),
                     width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                     height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    return capture, info


def frame_time(frame: int, fps: float) -> Optional[float]:
    """Seconds from the video's start of frame ``frame``; None when fps is unknown."""
    return frame / fps if fps > 0 else None


def iter_video_frames(path: str, every: int = 1,
                      start: int = 0) -> Iterator[Tuple[int, Optional[np.ndarray]]]:
    """Decode every ``every``-th frame of a video from frame ``start`` on.

    Frames before ``start`` and between sampled frames are grabbed, not decoded to
    images, so a resumed video seeks exactly. Yields ``(frame_index, image)``;
    ``image`` is None for a sampled frame that could not be decoded (warned). A
    stream that ends before the frame count the container reports is warned too.

    Raises:
        ValueError: ``every`` < 1 or ``start`` < 0.
    """
    if every < 1 or start < 0:
        raise ValueError(f'{path}: every must be >= 1 and start >= 0, got every='
                         f'{every}, start={start}')
    capture, info = open_video(path)
    if capture is None:
        return
    try:
        index = 0
        while index < start:
            if not capture.grab():
                return
            index += 1
        while True:
            if not capture.grab():
                break
            if (index - start) % every == 0:
                ok, image = capture.retrieve()
                if not ok or image is None or image.size == 0:
                    warn(f'{path}: frame {index} unreadable, skipped')
                    image = None
                yield index, image
            index += 1
        if info.num_frames and index < info.num_frames:
            warn(f'{path}: the stream ended at frame {index} of the '
                 f'{info.num_frames} its container reports (truncated or '
                 'unreadable); the frames after it are not indexed')
    finally:
        capture.release()


def read_video_frame(path: str, frame: int) -> Optional[np.ndarray]:
    """Decode one frame of a video (OpenCV seek), None when it cannot be read."""
    capture, _ = open_video(path)
    if capture is None:
        return None
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, int(frame))
        ok, image = capture.read()
        return image if ok else None
    finally:
        capture.release()


def is_video(path: str) -> bool:
    """Whether the path names a video file (by its extension)."""
    return path.lower().endswith(VIDEO_EXTENSIONS)


def read_source_frame(path: str, kind: str, frame: int) -> Optional[np.ndarray]:
    """The frame of an indexed source (an image, or a video's frame ``frame``);
    None with a warning when it cannot be read any more."""
    if kind == 'video':
        image = read_video_frame(path, frame)
        if image is None:
            warn(f'{path}: frame {frame} cannot be read')
        return image
    if not osp.isfile(path):
        warn(f'{path}: image file not found')
        return None
    return read_image(path)
