"""Fill a :class:`~.gallery_index.GalleryIndex` from footage, in batches, resumably.

Frames go through the model ``batch_size`` at a time
(:func:`mmssl.apis.detect_and_embed_batch`; a batch holds frames of one size only,
so that padding never changes a result); detections scoring at least the index's
``score_thr`` are kept. Every ``flush_every`` frames (or ``flush_seconds``) the
finished batches are committed together with how far each source got, so an
interruption (Ctrl-C, a crash, a killed job) loses at most the batches since the
last commit, and the next call resumes there: finished images are skipped, a video
continues at its next sampled frame. Unreadable images and frames are skipped with
a logged warning naming them (:mod:`.gallery_sources`) and counted.
"""
import logging
import os.path as osp
import time
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from .gallery_sources import (frame_time, iter_video_frames, list_images,
                              open_video, read_image)
from .inference import detect_and_embed_batch


def default_batch_size(model) -> int:
    """The batch size of the model config's test dataloader (1 without one)."""
    loader = model.cfg.get('test_dataloader') or {}
    return max(1, int(loader.get('batch_size', 1) or 1))


class _Run:
    """Batches frames through the model and commits them at intervals.

    Args:
        on_done: called at commit time with the ``tag`` of every frame run since
            the last commit, to record the sources' progress in the same SQLite
            transaction as their detections.
    """

    def __init__(self, index, batch_size: Optional[int], progress: bool, total: int,
                 flush_every: int, flush_seconds: float, on_done) -> None:
        self.index = index
        self.model = index._need_model()
        self.batch_size = batch_size or default_batch_size(self.model)
        if self.batch_size < 1 or flush_every < 1:
            raise ValueError(f'batch_size and flush_every must be >= 1, got '
                             f'{self.batch_size} and {flush_every}')
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.on_done = on_done
        self.score_thr = float(index.store.meta('score_thr'))
        self.bar = ProgressBar(total) if progress else None
        self.batch: List[tuple] = []  # (source_id, frame, time, image, tag)
        self.done: List[tuple] = []  # (tag, features, rows) of frames run
        self.last_flush = time.monotonic()
        self.frames = self.detections = 0
        self.started = time.monotonic()

    def tick(self) -> None:
        """Advance the progress bar by one frame."""
        if self.bar is not None:
            self.bar.update()

    def add(self, source_id: int, frame: int, time_s: Optional[float],
            image: np.ndarray, tag) -> None:
        """Queue a frame; run the queue when full (or when the frame size
        changes), commit when due."""
        if self.batch and self.batch[0][3].shape != image.shape:
            self.run_batch()
        self.batch.append((source_id, frame, time_s, image, tag))
        if len(self.batch) >= self.batch_size:
            self.run_batch()
        if self.due():
            self.flush()

    def run_batch(self) -> None:
        """Detect and embed the queued frames."""
        if not self.batch:
            return
        results = detect_and_embed_batch(self.model, [b[3] for b in self.batch])
        finished = []
        for (source_id, frame, time_s, _, tag), dets in zip(self.batch, results):
            keep = dets['scores'] >= self.score_thr
            rows = [(source_id, frame, time_s, *map(float, box), float(score))
                    for box, score in zip(dets['bboxes'][keep], dets['scores'][keep])]
            finished.append((tag, dets['embeddings'][keep], rows))
        self.done.extend(finished)  # one step: a frame is run entirely or not
        self.batch = []
        for _ in finished:
            self.tick()

    def due(self) -> bool:
        """Whether enough frames or time passed since the last commit."""
        return (len(self.done) >= self.flush_every
                or time.monotonic() - self.last_flush >= self.flush_seconds)

    def flush(self) -> None:
        """Commit the frames run (with the pending source updates)."""
        done, self.done = self.done, []
        self.on_done([tag for tag, _, _ in done])
        features = np.concatenate(
            [np.zeros((0, self.index.embed_dim), dtype=np.float32)] +
            [f.reshape(-1, self.index.embed_dim) for _, f, _ in done])
        rows = [row for _, _, frame_rows in done for row in frame_rows]
        self.index.commit(features, rows)
        self.frames += len(done)
        self.detections += len(rows)
        self.last_flush = time.monotonic()

    def summary(self, **extra) -> dict:
        """What the run did."""
        seconds = time.monotonic() - self.started
        if self.bar is not None:
            print()  # end the progress bar's line
        return dict(extra, frames=self.frames, detections=self.detections,
                    seconds=seconds,
                    frames_per_second=self.frames / seconds if seconds > 0 else 0.0)


def _begin(index, run_input: dict) -> None:
    index.store.set_meta(dict(complete=False, run_input=run_input))


def _finish(index) -> None:
    if index.store.directory is not None:
        index.save()
    index.store.set_meta(dict(complete=True, run_input=None))


def _guarded(run: _Run, work) -> None:
    """Run ``work``, then commit; on an interruption commit the frames already
    run (an unfinished batch is redone on resume) and re-raise."""
    try:
        work()
        run.run_batch()
    except BaseException:
        run.batch = []
        try:
            run.flush()
        except Exception as err:  # keep the original error
            print_log(f'gallery index: could not commit the finished frames after '
                      f'an interruption ({err})', logger='current',
                      level=logging.ERROR)
        raise
    run.flush()


def index_images(index, images: Union[str, Sequence[str]], *,
                 batch_size: Optional[int] = None, progress: bool = True,
                 flush_every: int = 100, flush_seconds: float = 60.0) -> dict:
    """Add the images of a folder (recursively, sorted) or a list of image paths.

    Returns:
        dict: ``images`` (given), ``already_indexed`` (skipped as done),
        ``unreadable`` (paths), ``frames`` (images run), ``detections`` added,
        ``seconds`` and ``frames_per_second``.
    """
    if isinstance(images, str):
        paths = list_images(images) if osp.isdir(images) else [images]
        described = osp.abspath(images)
    else:
        paths, described = list(images), f'{len(images)} image files'
    paths = [osp.abspath(p) for p in paths]
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(f'{missing[0]}: image file not found')
    store = index.store
    todo = [p for p in paths if (store.source(p) or {}).get('status') != 'done']
    unreadable: List[str] = []

    def on_done(tags) -> None:
        for path, (height, width) in tags:
            store.put_source(path, kind='image', status='done', next_frame=1,
                             width=width, height=height, frames_indexed=1,
                             frames_skipped=0)

    run = _Run(index, batch_size, progress, len(todo), flush_every, flush_seconds,
               on_done)
    _begin(index, dict(kind='images', path=described))

    def work() -> None:
        for path in todo:
            image = read_image(path)
            if image is None:
                unreadable.append(path)
                store.put_source(path, kind='image', status='unreadable',
                                 frames_skipped=1)
                run.tick()
                continue
            source_id = store.put_source(path, kind='image', status='partial')
            run.add(source_id, 0, None, image, (path, image.shape[:2]))

    _guarded(run, work)
    _finish(index)
    return run.summary(images=len(paths), already_indexed=len(paths) - len(todo),
                       unreadable=unreadable)


def index_video(index, video: str, *, every: int = 1,
                batch_size: Optional[int] = None, progress: bool = True,
                flush_every: int = 100, flush_seconds: float = 60.0) -> dict:
    """Add every ``every``-th frame of a video; resumes a partly indexed video.

    Returns:
        dict: ``video``, ``already_indexed`` (bool), ``start_frame``,
        ``unreadable_frames`` (indices), ``frames``, ``detections``, ``seconds``,
        ``frames_per_second``; ``unreadable`` True when the file cannot be opened.

    Raises:
        ValueError: the video was partly indexed with another ``every``.
    """
    path = osp.abspath(video)
    store = index.store
    source = store.source(path)
    if source is not None and source['status'] == 'done':
        print_log(f'{path}: already indexed, skipped', logger='current')
        return dict(video=path, already_indexed=True, frames=0, detections=0)
    if source is not None and source['status'] == 'partial' and \
            source['every'] != every:
        raise ValueError(f'{path}: partly indexed with every={source["every"]}; '
                         f'resume with the same value (got every={every})')
    capture, info = open_video(path)
    if capture is None:
        store.put_source(path, kind='video', status='unreadable', every=every)
        store.db.commit()
        return dict(video=path, already_indexed=False, unreadable=True, frames=0,
                    detections=0)
    capture.release()
    start = 0 if source is None or source['status'] != 'partial' else \
        source['next_frame']
    counts = dict(frames_indexed=0, frames_skipped=0) if source is None or \
        source['status'] != 'partial' else dict(
            frames_indexed=source['frames_indexed'],
            frames_skipped=source['frames_skipped'])
    source_id = store.put_source(path, kind='video', status='partial', every=every,
                                 next_frame=start, fps=info.fps, width=info.width,
                                 height=info.height, **counts)
    store.db.commit()
    total = max(0, -(-(info.num_frames - start) // every))
    unreadable: List[int] = []

    def on_done(frames) -> None:
        if frames:
            counts['frames_indexed'] += len(frames)
            store.put_source(path, next_frame=max(frames) + every, **counts)

    run = _Run(index, batch_size, progress, total, flush_every, flush_seconds,
               on_done)
    _begin(index, dict(kind='video', path=path, every=every))

    def work() -> None:
        for frame, image in iter_video_frames(path, every=every, start=start):
            if image is None:
                unreadable.append(frame)
                counts['frames_skipped'] += 1
                run.tick()
                continue
            run.add(source_id, frame, frame_time(frame, info.fps), image, frame)

    _guarded(run, work)
    store.put_source(path, status='done', **counts)
    _finish(index)
    return run.summary(video=path, already_indexed=False, start_frame=start,
                       unreadable_frames=unreadable)
