"""Containers for the inputs of the person-search evaluation.

A gallery is stored flat: every detection (and every ground-truth box) is one row with
the index of its gallery image, so the evaluation can work on whole arrays. Queries are
one feature per query. Plain numpy; no mmdet import.
"""
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np


def _rows(arr, width: int, what: str, dtype=np.float64) -> np.ndarray:
    """``arr`` as ``(n, width)`` (or ``(n,)`` when ``width`` is 0), or a ValueError."""
    arr = np.asarray(arr, dtype=dtype)
    if width == 0:
        if arr.ndim > 1 and arr.size != arr.shape[0]:
            raise ValueError(f'{what}: expected a 1-d array, got shape {arr.shape}')
        return arr.reshape(-1)
    if arr.size == 0:
        return arr.reshape(0, width)
    if arr.ndim != 2 or arr.shape[1] != width:
        if arr.ndim == 1 and arr.size == width:
            return arr.reshape(1, width)
        raise ValueError(f'{what}: expected shape (n, {width}), got {arr.shape}')
    return arr


@dataclass
class SearchGallery:
    """Gallery images with their detections, features and ground truth, stored flat.

    Attributes:
        cam_ids: ``(G,)`` int camera id of every gallery image (-1 when unknown).
        det_boxes: ``(D, 4)`` detections ``[x1, y1, x2, y2]`` in original image pixels.
        det_scores: ``(D,)`` detection scores.
        det_feats: ``(D, d)`` re-id features (normalised by the evaluation).
        det_img_inds: ``(D,)`` gallery image index of every detection.
        gt_boxes: ``(M, 4)`` ground-truth person boxes.
        gt_person_ids: ``(M,)`` int person id of every box (< 0: unknown/unlabelled).
        gt_img_inds: ``(M,)`` gallery image index of every box.
    """

    cam_ids: np.ndarray
    det_boxes: np.ndarray
    det_scores: np.ndarray
    det_feats: np.ndarray
    det_img_inds: np.ndarray
    gt_boxes: np.ndarray
    gt_person_ids: np.ndarray
    gt_img_inds: np.ndarray

    def __post_init__(self) -> None:
        self.cam_ids = _rows(self.cam_ids, 0, 'SearchGallery.cam_ids', np.int64)
        self.det_boxes = _rows(self.det_boxes, 4, 'SearchGallery.det_boxes')
        self.det_scores = _rows(self.det_scores, 0, 'SearchGallery.det_scores')
        feats = np.asarray(self.det_feats)
        if feats.ndim != 2:
            if feats.size == 0:
                feats = feats.reshape(0, 0)
            else:
                raise ValueError('SearchGallery.det_feats: expected shape (D, d), got '
                                 f'{feats.shape}')
        self.det_feats = feats
        self.det_img_inds = _rows(self.det_img_inds, 0, 'SearchGallery.det_img_inds',
                                  np.int64)
        self.gt_boxes = _rows(self.gt_boxes, 4, 'SearchGallery.gt_boxes')
        self.gt_person_ids = _rows(self.gt_person_ids, 0, 'SearchGallery.gt_person_ids',
                                   np.int64)
        self.gt_img_inds = _rows(self.gt_img_inds, 0, 'SearchGallery.gt_img_inds', np.int64)
        num_dets = len(self.det_boxes)
        for name in ('det_scores', 'det_img_inds'):
            if len(getattr(self, name)) != num_dets:
                raise ValueError(f'SearchGallery.{name}: {len(getattr(self, name))} rows for '
                                 f'{num_dets} detections')
        if len(self.det_feats) != num_dets and num_dets:
            raise ValueError(f'SearchGallery.det_feats: {len(self.det_feats)} rows for '
                             f'{num_dets} detections')
        for name in ('gt_person_ids', 'gt_img_inds'):
            if len(getattr(self, name)) != len(self.gt_boxes):
                raise ValueError(f'SearchGallery.{name}: {len(getattr(self, name))} rows for '
                                 f'{len(self.gt_boxes)} ground-truth boxes')
        for name in ('det_img_inds', 'gt_img_inds'):
            inds = getattr(self, name)
            bad = np.flatnonzero((inds < 0) | (inds >= self.num_images))
            if len(bad):
                raise ValueError(f'SearchGallery.{name}[{bad[0]}] = {inds[bad[0]]} is not an '
                                 f'image index in [0, {self.num_images})')

    @property
    def num_images(self) -> int:
        """Number of gallery images ``G``."""
        return len(self.cam_ids)

    @classmethod
    def from_per_image(cls,
                       det_boxes: Sequence[np.ndarray],
                       det_scores: Sequence[np.ndarray],
                       det_feats: Sequence[np.ndarray],
                       gt_boxes: Sequence[np.ndarray],
                       gt_person_ids: Sequence[np.ndarray],
                       cam_ids: Optional[Sequence[int]] = None) -> 'SearchGallery':
        """Build a gallery from per-image lists (one entry per gallery image).

        Args:
            det_boxes: per image ``(n_i, 4)`` detections.
            det_scores: per image ``(n_i,)`` scores.
            det_feats: per image ``(n_i, d)`` features.
            gt_boxes: per image ``(m_i, 4)`` ground-truth boxes.
            gt_person_ids: per image ``(m_i,)`` person ids.
            cam_ids: per image camera id; all -1 when None.

        Raises:
            ValueError: lists of different lengths, or an image whose arrays disagree
                in length (the message names the image index).
        """
        num_images = len(det_boxes)
        lengths = dict(det_scores=len(det_scores), det_feats=len(det_feats),
                       gt_boxes=len(gt_boxes), gt_person_ids=len(gt_person_ids))
        if cam_ids is not None:
            lengths['cam_ids'] = len(cam_ids)
        for name, length in lengths.items():
            if length != num_images:
                raise ValueError(f'SearchGallery.from_per_image: {name} has {length} '
                                 f'entries, det_boxes has {num_images}')
        boxes, scores, feats, det_imgs = [], [], [], []
        gts, pids, gt_imgs = [], [], []
        feat_dim = None
        for i in range(num_images):
            b = _rows(det_boxes[i], 4, f'det_boxes[{i}]')
            s = _rows(det_scores[i], 0, f'det_scores[{i}]')
            f = np.asarray(det_feats[i])
            if len(b) and f.ndim == 1 and f.size % len(b) == 0:
                f = f.reshape(len(b), -1)
            num_feats = len(f) if f.size else 0
            if len(s) != len(b) or num_feats != len(b):
                raise ValueError(f'SearchGallery.from_per_image: image {i} has {len(b)} '
                                 f'boxes, {len(s)} scores and {num_feats} features')
            if len(b):
                if feat_dim is not None and f.shape[1] != feat_dim:
                    raise ValueError(f'SearchGallery.from_per_image: image {i} has '
                                     f'{f.shape[1]}-d features, earlier images {feat_dim}-d')
                feat_dim = f.shape[1]
                boxes.append(b)
                scores.append(s)
                feats.append(f)
                det_imgs.append(np.full(len(b), i, dtype=np.int64))
            g = _rows(gt_boxes[i], 4, f'gt_boxes[{i}]')
            p = _rows(gt_person_ids[i], 0, f'gt_person_ids[{i}]', np.int64)
            if len(p) != len(g):
                raise ValueError(f'SearchGallery.from_per_image: image {i} has {len(g)} '
                                 f'ground-truth boxes and {len(p)} person ids')
            gts.append(g)
            pids.append(p)
            gt_imgs.append(np.full(len(g), i, dtype=np.int64))
        feat_dim = feat_dim or 0
        return cls(
            cam_ids=(np.full(num_images, -1) if cam_ids is None else np.asarray(cam_ids)),
            det_boxes=np.concatenate(boxes) if boxes else np.zeros((0, 4)),
            det_scores=np.concatenate(scores) if scores else np.zeros(0),
            det_feats=(np.concatenate(feats) if feats
                       else np.zeros((0, feat_dim), dtype=np.float32)),
            det_img_inds=np.concatenate(det_imgs) if det_imgs else np.zeros(0, np.int64),
            gt_boxes=np.concatenate(gts) if gts else np.zeros((0, 4)),
            gt_person_ids=np.concatenate(pids) if pids else np.zeros(0, np.int64),
            gt_img_inds=np.concatenate(gt_imgs) if gt_imgs else np.zeros(0, np.int64))


@dataclass
class SearchQueries:
    """Query persons: one feature each, plus where each was taken.

    Attributes:
        feats: ``(Q, d)`` features of the query boxes (normalised by the evaluation).
        img_inds: ``(Q,)`` gallery index of the query's own image, -1 when the query
            image is not a gallery image.
        cam_ids: ``(Q,)`` camera id of the query image.
        person_ids: ``(Q,)`` person id of the query (used when positives are found by
            person id).
    """

    feats: np.ndarray
    img_inds: np.ndarray
    cam_ids: np.ndarray
    person_ids: np.ndarray

    def __post_init__(self) -> None:
        self.feats = np.asarray(self.feats)
        if self.feats.ndim != 2:
            raise ValueError(f'SearchQueries.feats: expected shape (Q, d), got '
                             f'{self.feats.shape}')
        for name in ('img_inds', 'cam_ids', 'person_ids'):
            arr = _rows(getattr(self, name), 0, f'SearchQueries.{name}', np.int64)
            if len(arr) != len(self.feats):
                raise ValueError(f'SearchQueries.{name}: {len(arr)} entries for '
                                 f'{len(self.feats)} query features')
            setattr(self, name, arr)

    def __len__(self) -> int:
        return len(self.feats)
