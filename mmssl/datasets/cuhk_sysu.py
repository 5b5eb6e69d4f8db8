"""The CUHK-SYSU reader (docs/datasets.md, CUHK-SYSU): Images.mat, pool.mat, TestG*.mat."""
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from mmdet.registry import DATASETS

from .formats import (CUHKImageAnnotation, CUHKTestQuery, area_inside_image,
                      clip_xywh_boxes, cuhk_seqnet_boxes,
                      cuhk_test_protocol_key, cuhk_test_protocol_path,
                      load_cuhk_images, load_cuhk_pool,
                      load_cuhk_test_protocol, load_cuhk_train_identities,
                      parse_cuhk_person_id)
from .person_search_dataset import (UNKNOWN_PERSON_ID, PersonSearchDataset,
                                    TestSplit, person_instance)

COORD_TOLERANCE = 0.5
"""Two CUHK-SYSU boxes are the same box when every coordinate differs by less."""


def match_box(boxes: np.ndarray, box: np.ndarray) -> int:
    """Row of ``boxes`` (``(K, 4)`` xywh) equal to ``box`` (xywh), or -1."""
    if len(boxes) == 0:
        return -1
    hits = np.flatnonzero(
        np.all(np.abs(boxes - np.asarray(box)[None]) < COORD_TOLERANCE, axis=1))
    return int(hits[0]) if hits.size else -1


class _PersonIdAssigner:
    """Attach person ids to the stored boxes of images by matching coordinates."""

    def __init__(self, images: Dict[str, CUHKImageAnnotation]) -> None:
        self.images = images
        self.ids = {
            name: np.full(len(image.boxes), UNKNOWN_PERSON_ID, np.int64)
            for name, image in images.items()
        }
        self.unmatched = 0
        self.conflicts = 0

    def assign(self, image_name: str, box: np.ndarray, person_id: int) -> int:
        """Give ``person_id`` to the box of ``image_name`` equal to ``box``.

        Returns:
            The row of the box in ``Images.mat``, or -1 when not found.
        """
        image = self.images.get(image_name)
        row = -1 if image is None else match_box(image.boxes, box)
        if row < 0:
            self.unmatched += 1
            return -1
        current = self.ids[image_name][row]
        if current != UNKNOWN_PERSON_ID and current != person_id:
            self.conflicts += 1
        else:
            self.ids[image_name][row] = person_id
        return row

    def log(self, source: str, what: str) -> None:
        if self.unmatched:
            print_log(f'{source}: {self.unmatched} {what} boxes match no box of '
                      'Images.mat; they give no person id', logger='current',
                      level=logging.WARNING)
        if self.conflicts:
            print_log(f'{source}: {self.conflicts} boxes were given two different '
                      'person ids; the first one is kept', logger='current',
                      level=logging.WARNING)


def _person_id(name: str, fallback: int) -> int:
    person_id = parse_cuhk_person_id(name)
    return fallback if person_id is None else person_id


@DATASETS.register_module()
class CUHKSYSUDataset(PersonSearchDataset):
    """CUHK-SYSU (Xiao et al., CVPR 2017) read from its official layout.

    ``data_root`` holds ``Image/SSM/*.jpg`` and ``annotation/`` with
    ``Images.mat``, ``pool.mat`` (test images; train = all others) and
    ``test/train_test/{Train,TestG50,...,TestG4000}.mat``. Boxes with ``w`` or
    ``h`` <= 0 are dropped with a logged count. ``cam_id`` is -1.

    Boxes (``box_reading``, docs/datasets.md "How boxes are read"): ``'seqnet'``
    (default on the test split) truncates ``x``, ``y``, ``w``, ``h`` to integers and
    adds, as SeqNet's reader does, without clipping; ``'clipped'`` (default on the
    train split) keeps float corners clipped to the image. The same reading applies
    to the query and the positive boxes of ``TestG<N>.mat``; a query without area
    inside its image is an error.

    Person ids (diagnostics and evaluation only) are the number of the ``idname``
    (``'p1234'`` -> 1234; an ``idname`` without a number gets its record index):
    train boxes get theirs from ``Train.mat``, gallery boxes from the loaded
    ``TestG`` files (query and positive gallery boxes matched to ``Images.mat`` by
    coordinates); other boxes have -1.

    Test protocols: ``gallery_<N>`` for each ``N`` in ``gallery_sizes`` (from
    ``TestG<N>.mat``: the listed gallery images, positives given by their boxes),
    and with ``full_gallery`` the protocol ``full`` (every test image but the
    query's own, positives by person id). The queries come from the first loaded
    file; all loaded files must list the same queries.

    Args:
        gallery_sizes: the ``TestG<N>`` files to load (at least one).
        full_gallery: add the ``full`` protocol.
        default_protocol: the protocol reported without suffix; None picks
            ``gallery_100`` when loaded, else the first loaded size.
        box_reading: ``'seqnet'``, ``'clipped'`` or None (by split, see above).
        *args, **kwargs: :class:`PersonSearchDataset` arguments.
    """

    def __init__(self,
                 *args,
                 gallery_sizes: Sequence[int] = (100, ),
                 full_gallery: bool = False,
                 default_protocol: Optional[str] = None,
                 box_reading: Optional[str] = None,
                 **kwargs) -> None:
        self.gallery_sizes = tuple(int(n) for n in gallery_sizes)
        if not self.gallery_sizes:
            raise ValueError(f'{type(self).__name__}: gallery_sizes must name at '
                             'least one TestG<N>.mat file (the queries come from '
                             'it)')
        self.full_gallery = full_gallery
        names = [f'gallery_{n}' for n in self.gallery_sizes]
        names += ['full'] if full_gallery else []
        if default_protocol is None:
            default_protocol = ('gallery_100' if 100 in self.gallery_sizes else
                                names[0])
        self.set_reading_options(default_protocol, names, box_reading, kwargs)
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------ file access

    def _annotation(self, *parts: str) -> str:
        return osp.join(self.root, 'annotation', *parts)

    def _split_images(self) -> Tuple[List[CUHKImageAnnotation], List[str]]:
        images = load_cuhk_images(self._annotation('Images.mat'))
        pool = load_cuhk_pool(self._annotation('pool.mat'))
        return images, pool

    def _corners(self, xywh: np.ndarray, width: int,
                 height: int) -> Tuple[np.ndarray, np.ndarray]:
        """``[x1, y1, x2, y2]`` of stored boxes by ``box_reading``, and whether each
        is valid (``w``, ``h`` > 0 as stored and, for ``'clipped'``, an area left
        inside the image)."""
        if self.box_reading == 'clipped':
            return clip_xywh_boxes(xywh, width, height)
        xywh = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
        return cuhk_seqnet_boxes(xywh), (xywh[:, 2] > 0) & (xywh[:, 3] > 0)

    def _record(self, image: CUHKImageAnnotation,
                person_ids: np.ndarray) -> Tuple[dict, int]:
        img_path = osp.join(self.root, 'Image', 'SSM', image.name)
        width, height = self.image_size(img_path)
        xyxy, valid = self._corners(image.boxes, width, height)
        instances = [
            person_instance(xyxy[k], person_ids[k], k)
            for k in range(len(image.boxes)) if valid[k]
        ]
        return (self.make_record(img_path, image.name, height, width, -1,
                                 instances), int((~valid).sum()))

    # --------------------------------------------------------------- splits

    def load_train_records(self) -> List[dict]:
        """Images of ``Images.mat`` not in ``pool.mat``, ids from ``Train.mat``."""
        source = f'{type(self).__name__} train'
        images, pool = self._split_images()
        test_names = set(pool)
        train = {im.name: im for im in images if im.name not in test_names}
        assigner = _PersonIdAssigner(train)
        identities = load_cuhk_train_identities(
            self._annotation('test', 'train_test', 'Train.mat'))
        for index, identity in enumerate(identities):
            person_id = _person_id(identity.person_name, index)
            for appearance in identity.appearances:
                assigner.assign(appearance.image_name, appearance.box, person_id)
        assigner.log(source, 'Train.mat')
        records, dropped = [], 0
        for image in images:
            if image.name in train:
                record, bad = self._record(image, assigner.ids[image.name])
                records.append(record)
                dropped += bad
        self.log_dropped_boxes(dropped, source, 'w or h <= 0')
        return records

    def load_test_split(self) -> TestSplit:
        """Every ``pool.mat`` image as gallery; queries and galleries from TestG."""
        source = f'{type(self).__name__} test'
        images, pool = self._split_images()
        by_name = {im.name: im for im in images}
        missing = [name for name in pool if name not in by_name]
        if missing:
            raise ValueError(f'{self._annotation("pool.mat")}: {len(missing)} '
                             f'test images are not in Images.mat, e.g. '
                             f'{missing[0]}')
        gallery_index = {name: i for i, name in enumerate(pool)}
        test_images = {name: by_name[name] for name in pool}
        assigner = _PersonIdAssigner(test_images)

        protocols: Dict[int, List[CUHKTestQuery]] = {}
        first_path = None
        for size in self.gallery_sizes:
            path = cuhk_test_protocol_path(self.root, size)
            protocol = load_cuhk_test_protocol(path, cuhk_test_protocol_key(size))
            if first_path is None:
                first_path = path
            else:
                self._check_same_queries(protocols[self.gallery_sizes[0]],
                                         first_path, protocol, path)
            protocols[size] = protocol
            for index, item in enumerate(protocol):
                person_id = _person_id(item.person_name, index)
                assigner.assign(item.query.image_name, item.query.box, person_id)
                for entry in item.gallery:
                    if entry.box is not None:
                        assigner.assign(entry.image_name, entry.box, person_id)
        assigner.log(source, 'TestG query or gallery')

        gallery, dropped = [], 0
        for name in pool:
            record, bad = self._record(test_images[name], assigner.ids[name])
            gallery.append(record)
            dropped += bad
        self.log_dropped_boxes(dropped, source, 'w or h <= 0')
        sizes = {r['img_id']: (r['width'], r['height']) for r in gallery}

        first = protocols[self.gallery_sizes[0]]
        queries = []
        for index, item in enumerate(first):
            name = item.query.image_name
            if name not in sizes:
                raise ValueError(f'{first_path}: query {index} is in image {name}'
                                 ', which is not in pool.mat')
            xyxy, valid = self._corners(item.query.box[None], *sizes[name])
            if not (valid[0] and area_inside_image(xyxy, *sizes[name])[0]):
                raise ValueError(f'{first_path}: query {index} box '
                                 f'{item.query.box.tolist()} has no area')
            queries.append(
                dict(img_id=name, cam_id=-1,
                     person_id=_person_id(item.person_name, index),
                     bbox=xyxy[0].tolist()))

        galleries = {}
        for size, protocol in protocols.items():
            path = cuhk_test_protocol_path(self.root, size)
            galleries[f'gallery_{size}'] = self._gallery_protocol(
                protocol, path, gallery_index, sizes)
        if self.full_gallery:
            galleries['full'] = dict(
                gallery=None, exclude_same_camera=False, positives=None)
        return TestSplit(gallery, queries, galleries, self.default_protocol)

    @staticmethod
    def _check_same_queries(reference: List[CUHKTestQuery], reference_path: str,
                            protocol: List[CUHKTestQuery], path: str) -> None:
        if len(reference) != len(protocol):
            raise ValueError(f'{path}: {len(protocol)} queries, but '
                             f'{reference_path} has {len(reference)}; all TestG '
                             'files must list the same queries')
        for index, (a, b) in enumerate(zip(reference, protocol)):
            if (a.query.image_name != b.query.image_name
                    or a.person_name != b.person_name
                    or not np.allclose(a.query.box, b.query.box)):
                raise ValueError(f'{path}: query {index} ({b.person_name} in '
                                 f'{b.query.image_name}) differs from query '
                                 f'{index} of {reference_path}')

    def _gallery_protocol(self, protocol: List[CUHKTestQuery], path: str,
                          gallery_index: Dict[str, int],
                          sizes: Dict[str, Tuple[int, int]]) -> dict:
        galleries, positives = [], []
        for index, item in enumerate(protocol):
            indices, boxes = [], {}
            for g, entry in enumerate(item.gallery):
                if entry.image_name not in gallery_index:
                    raise ValueError(f'{path}: query {index} gallery entry {g} is '
                                     f'image {entry.image_name}, which is not in '
                                     'pool.mat')
                position = gallery_index[entry.image_name]
                indices.append(position)
                if entry.box is not None:
                    xyxy, _ = self._corners(entry.box[None], *sizes[entry.image_name])
                    boxes[position] = xyxy[0].tolist()
            galleries.append(np.asarray(indices, dtype=np.int64))
            positives.append(boxes)
        return dict(
            gallery=galleries, exclude_same_camera=False, positives=positives)
