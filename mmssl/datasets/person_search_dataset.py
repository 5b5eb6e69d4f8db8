"""The base class of every person-search dataset: records, splits, search protocol.

A subclass reads its own files and hands over plain records; this class turns them
into the layout of ``docs/internals.md`` sections 1-2:

* train split: one record per training image; images without a valid box are
  dropped by :meth:`PersonSearchDataset.filter_data` (logged count); afterwards every
  box gets ``instance_index`` 0..N-1 in record order (the row of the memory banks);
* test split: the gallery records (all test images), then one record per query whose
  ``instances`` holds only the query box; ``metainfo['search_protocol']`` describes
  the galleries.
"""
import logging
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmssl.evaluation.functional.box_iou import aligned_box_iou
from .formats.box_readings import (BOX_READINGS, area_inside_image,  # noqa: F401
                                   clip_xywh_boxes, resolve_box_reading)
from .formats.image_header import (IMAGE_END_MARKERS, IMAGE_TAIL_BYTES,  # noqa: F401
                                   UNKNOWN_SIZE, read_image_size)

UNKNOWN_PERSON_ID = -1
"""``person_id`` of a box whose identity is not annotated."""

# ----------------------------------------------------------------- pure helpers


def find_matching_instance(instances: Sequence[dict],
                           bbox: Sequence[float],
                           person_id: int,
                           min_iou: float = 0.5) -> int:
    """Position of the instance that is the given person box, or -1.

    The candidates are the instances with IoU >= ``min_iou``; one with the same
    ``person_id`` is preferred, then the highest IoU.
    """
    if not instances:
        return -1
    boxes = np.array([inst['bbox'] for inst in instances], dtype=np.float64)
    ious = aligned_box_iou(np.broadcast_to(np.asarray(bbox, np.float64), boxes.shape),
                           boxes)
    same_id = np.array([inst['person_id'] == person_id for inst in instances])
    candidates = np.flatnonzero(ious >= min_iou)
    if candidates.size == 0:
        return -1
    order = np.lexsort((-ious[candidates], ~same_id[candidates]))
    return int(candidates[order[0]])


def person_instance(bbox: Sequence[float], person_id: int,
                    ann_row: int) -> dict:
    """One ``instances`` entry of a record (``docs/internals.md`` section 1)."""
    return dict(
        bbox=[float(v) for v in bbox],
        bbox_label=0,
        ignore_flag=0,
        person_id=int(person_id),
        instance_index=-1,
        ann_row=int(ann_row))


def validate_search_protocol(protocol: dict, source: str) -> None:
    """Check a search protocol against ``docs/internals.md`` section 2.

    Raises:
        ValueError: naming ``source`` and the offending entry.
    """
    for key in ('gallery_img_ids', 'queries', 'galleries', 'default'):
        if key not in protocol:
            raise ValueError(f'{source}: search protocol lacks {key!r}')
    num_gallery = len(protocol['gallery_img_ids'])
    num_queries = len(protocol['queries'])
    if protocol['default'] not in protocol['galleries']:
        raise ValueError(f'{source}: default protocol {protocol["default"]!r} is '
                         f'not one of {sorted(protocol["galleries"])}')
    for name, spec in protocol['galleries'].items():
        for key in ('gallery', 'exclude_same_camera', 'positives'):
            if key not in spec:
                raise ValueError(f'{source}: protocol {name!r} lacks {key!r}')
        for key in ('gallery', 'positives'):
            if spec[key] is not None and len(spec[key]) != num_queries:
                raise ValueError(
                    f'{source}: protocol {name!r} has {len(spec[key])} {key} '
                    f'entries for {num_queries} queries')
        for q, indices in enumerate(spec['gallery'] or []):
            indices = np.asarray(indices)
            if indices.size and (indices.min() < 0
                                 or indices.max() >= num_gallery):
                raise ValueError(f'{source}: protocol {name!r} query {q} refers '
                                 f'to gallery indices outside 0..{num_gallery - 1}')
        for q, positives in enumerate(spec['positives'] or []):
            for index in positives:
                if not 0 <= int(index) < num_gallery:
                    raise ValueError(
                        f'{source}: protocol {name!r} query {q} has a positive '
                        f'in gallery image {index}, outside 0..{num_gallery - 1}')


class TestSplit(NamedTuple):
    """What a subclass's :meth:`PersonSearchDataset.load_test_split` returns.

    Attributes:
        gallery_records: records of all test images (``make_record`` output).
        queries: protocol queries, dicts ``img_id``, ``cam_id``, ``person_id``,
            ``bbox`` (``[x1, y1, x2, y2]`` clipped to the image).
        galleries: the named protocols (``docs/internals.md`` section 2).
        default: the name of the protocol reported without suffix.
    """
    gallery_records: List[dict]
    queries: List[dict]
    galleries: Dict[str, dict]
    default: str


# ------------------------------------------------------------------- the class


@DATASETS.register_module()
class PersonSearchDataset(BaseDetDataset):
    """Base class of the person-search datasets (``docs/internals.md`` 1-2).

    Subclasses implement :meth:`load_train_records` and :meth:`load_test_split`;
    this class builds query records, the search protocol, filtering and the
    instance indices.

    Records carry ``img_path``, ``img_id``, ``height``, ``width``, ``cam_id``,
    ``fg_mask_path``, ``is_query``, ``query_index`` and ``instances`` (each with
    ``bbox``, ``bbox_label``, ``ignore_flag``, ``person_id``, ``instance_index``,
    ``ann_row``). ``img_id`` is unique among the train or gallery records; a query
    record repeats the ``img_id`` of its image.

    Filtering (train split only): ``filter_cfg`` accepts ``filter_empty_gt``
    (default True: drop images without a valid box, the count is logged) and
    ``min_size`` (drop images whose shorter side is smaller). The test split is
    never filtered (the protocol refers to every test image) and rejects
    ``indices``. Instance indices are assigned after filtering and slicing by
    ``indices`` and before serialisation, so they are always 0..N-1 over the
    records kept; a later ``get_subset`` keeps them (and ``num_instances``) as is.

    Args:
        split: ``'train'`` or ``'test'``.
        mask_dir: folder of instance-index mask PNGs (``docs/internals.md``
            section 4), relative to ``data_root`` or absolute; a record's
            ``fg_mask_path`` is ``<mask_dir>/<img_id stem>.png`` when that file
            exists, else None. None disables the lookup.
        read_image_sizes: read each image's size from its header when the dataset
            is built (which also finds missing and truncated images early). False
            opens no image: the records get ``height`` and ``width``
            :data:`UNKNOWN_SIZE` unless the annotations give them, which is enough
            to evaluate saved results (``tools/analysis_tools/eval_arrays.py``) but
            not to run a pipeline that needs the sizes.
        *args, **kwargs: passed to :class:`mmdet.datasets.BaseDetDataset`.
    """

    METAINFO = dict(classes=('person', ), palette=[(220, 20, 60)])
    SPLITS = ('train', 'test')
    FILTER_KEYS = ('filter_empty_gt', 'min_size')

    def __init__(self,
                 *args,
                 split: str = 'train',
                 mask_dir: Optional[str] = 'masks',
                 read_image_sizes: bool = True,
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'{type(self).__name__}: split must be one of '
                             f'{self.SPLITS}, got {split!r}')
        self.split = split
        self.mask_dir = mask_dir
        self.read_image_sizes = bool(read_image_sizes)
        self._num_instances = 0
        self._instance_table: Dict[str, np.ndarray] = {}
        self._mask_files: Optional[set] = None
        super().__init__(*args, **kwargs)

    # --------------------------------------------------------- subclass hooks

    def load_train_records(self) -> List[dict]:
        """Return the train records (``instances`` with ``instance_index`` -1)."""
        raise NotImplementedError(
            f'{type(self).__name__} does not read any files; use PRWDataset, '
            'CUHKSYSUDataset, SynthPSDataset or PersonSearchJSONDataset')

    def load_test_split(self) -> TestSplit:
        """Return the gallery records, the queries and the named galleries."""
        raise NotImplementedError(
            f'{type(self).__name__} does not read any files; use PRWDataset, '
            'CUHKSYSUDataset, SynthPSDataset or PersonSearchJSONDataset')

    def set_reading_options(self, default_protocol: str,
                            protocols: Sequence[str],
                            box_reading: Optional[str],
                            init_kwargs: dict) -> None:
        """Check and keep a file reader's ``default_protocol`` and ``box_reading``.

        PRW and CUHK-SYSU call this before :meth:`__init__`, which loads their
        files and so needs both.

        Args:
            default_protocol: the protocol reported without suffix.
            protocols: the protocols this dataset offers.
            box_reading: ``'seqnet'``, ``'clipped'`` or None (by split,
                :func:`resolve_box_reading`).
            init_kwargs: the keyword arguments passed on to :meth:`__init__`; their
                ``split`` and ``read_image_sizes`` (this class's defaults where
                absent) pick and check the box reading.

        Raises:
            ValueError: ``default_protocol`` is not one of ``protocols``, or the
                box reading is unknown or cannot be used.
        """
        name = type(self).__name__
        if default_protocol not in protocols:
            raise ValueError(f'{name}: default_protocol {default_protocol!r} is not '
                             f'one of {protocols}')
        self.default_protocol = default_protocol
        self.box_reading = resolve_box_reading(
            box_reading, init_kwargs.get('split', 'train'),
            init_kwargs.get('read_image_sizes', True), name)

    # -------------------------------------------------------- record building

    @property
    def root(self) -> str:
        """The dataset root (``data_root``, '' when unset)."""
        return self.data_root or ''

    def mask_path(self, img_id: str) -> Optional[str]:
        """``fg_mask_path`` of an image: the mask PNG if it exists, else None."""
        if self.mask_dir is None:
            return None
        folder = osp.join(self.root, self.mask_dir)
        if self._mask_files is None:
            self._mask_files = (set(os.listdir(folder))
                                if osp.isdir(folder) else set())
        name = osp.splitext(img_id)[0] + '.png'
        return osp.join(folder, name) if name in self._mask_files else None

    def image_size(self, img_path: str) -> Tuple[int, int]:
        """``(width, height)`` from the image header (:func:`read_image_size`), or
        :data:`UNKNOWN_SIZE` twice when the dataset reads no image."""
        if not self.read_image_sizes:
            return UNKNOWN_SIZE, UNKNOWN_SIZE
        return read_image_size(img_path)

    def make_record(self, img_path: str, img_id: str, height: int, width: int,
                    cam_id: int, instances: List[dict]) -> dict:
        """A train or gallery record (``docs/internals.md`` section 1)."""
        return dict(
            img_path=img_path,
            img_id=img_id,
            height=int(height),
            width=int(width),
            cam_id=int(cam_id),
            fg_mask_path=self.mask_path(img_id),
            is_query=False,
            query_index=-1,
            instances=instances)

    @staticmethod
    def log_dropped_boxes(num_dropped: int, source: str, reason: str) -> None:
        """Log how many boxes a reader dropped (nothing when zero)."""
        if num_dropped:
            print_log(
                f'{source}: dropped {num_dropped} boxes ({reason})',
                logger='current',
                level=logging.WARNING)

    @staticmethod
    def log_kept_empty_boxes(num_kept: int, source: str) -> None:
        """Log how many boxes without area inside the image SeqNet's reading kept."""
        if num_kept:
            print_log(
                f'{source}: kept {num_kept} boxes without area inside the image '
                "(box_reading='seqnet' keeps every box, as SeqNet's reader does)",
                logger='current',
                level=logging.WARNING)

    # ------------------------------------------------------- loading pipeline

    def load_data_list(self) -> List[dict]:
        """Read the split: train records, or gallery records then query records.

        For the test split this also puts ``search_protocol`` into the metainfo.
        """
        self._mask_files = None
        if self.split == 'train':
            return self.load_train_records()
        test = self.load_test_split()
        source = type(self).__name__
        by_img_id: Dict[str, dict] = {}
        for record in test.gallery_records:
            if record['img_id'] in by_img_id:
                raise ValueError(f'{source}: gallery image {record["img_id"]} '
                                 'appears twice')
            by_img_id[record['img_id']] = record
        query_records = []
        for index, query in enumerate(test.queries):
            image = by_img_id.get(query['img_id'])
            if image is None:
                raise ValueError(f'{source}: query {index} is in image '
                                 f'{query["img_id"]}, which is not a test image')
            row = find_matching_instance(image['instances'], query['bbox'],
                                         query['person_id'])
            ann_row = image['instances'][row]['ann_row'] if row >= 0 else -1
            record = {k: v for k, v in image.items() if k != 'instances'}
            record.update(
                is_query=True,
                query_index=index,
                instances=[
                    person_instance(query['bbox'], query['person_id'], ann_row)
                ])
            query_records.append(record)
        protocol = dict(
            gallery_img_ids=[r['img_id'] for r in test.gallery_records],
            queries=[
                dict(img_id=q['img_id'], cam_id=int(q['cam_id']),
                     person_id=int(q['person_id']),
                     bbox=[float(v) for v in q['bbox']]) for q in test.queries
            ],
            galleries=test.galleries,
            default=test.default)
        validate_search_protocol(protocol, source)
        self._metainfo['search_protocol'] = protocol
        return list(test.gallery_records) + query_records

    def filter_data(self) -> List[dict]:
        """Drop train images without a valid box or smaller than ``min_size``.

        The test split is returned unchanged (a ``filter_cfg`` is ignored there,
        with a warning).
        """
        source = type(self).__name__
        if self.split == 'test':
            if self.filter_cfg:
                print_log(f'{source}: filter_cfg is ignored on the test split '
                          '(the search protocol refers to every test image)',
                          logger='current', level=logging.WARNING)
            return self.data_list
        cfg = dict(filter_empty_gt=True, min_size=0)
        unknown = set(self.filter_cfg or {}) - set(self.FILTER_KEYS)
        if unknown:
            raise ValueError(f'{source}: unknown filter_cfg keys '
                             f'{sorted(unknown)}; known: {self.FILTER_KEYS}')
        cfg.update(self.filter_cfg or {})
        kept, empty, small = [], 0, 0
        for record in self.data_list:
            if cfg['filter_empty_gt'] and not record['instances']:
                empty += 1
            elif cfg['min_size'] and UNKNOWN_SIZE in (record['width'], record['height']):
                raise ValueError(f'{source}: filter_cfg min_size needs the image sizes; '
                                 f'{record["img_id"]} has none (build the dataset with '
                                 'read_image_sizes=True)')
            elif min(record['width'], record['height']) < cfg['min_size']:
                small += 1
            else:
                kept.append(record)
        if empty:
            print_log(f'{source}: skipped {empty} train images with no valid '
                      'box', logger='current', level=logging.WARNING)
        if small:
            print_log(f'{source}: skipped {small} train images smaller than '
                      f'min_size={cfg["min_size"]}', logger='current',
                      level=logging.WARNING)
        return kept

    def full_init(self) -> None:
        """Load, filter, slice, assign instance indices, then serialise.

        The same steps as :meth:`mmdet.datasets.BaseDetDataset.full_init` with
        the instance indices assigned after every step that can drop records.
        """
        if self._fully_initialized:
            return
        self.data_list = self.load_data_list()
        if self.proposal_file is not None:
            self.load_proposals()
        self.data_list = self.filter_data()
        if self._indices is not None:
            if self.split == 'test':
                raise ValueError(
                    f'{type(self).__name__}: indices is not supported on the '
                    'test split (the search protocol refers to every test '
                    'image)')
            self.data_list = self._get_unserialized_subset(self._indices)
        self._assign_instance_indices()
        if self.serialize_data and self.data_list:
            self.data_bytes, self.data_address = self._serialize_data()
        elif self.serialize_data:  # mmengine cannot serialise an empty list
            self.data_bytes = np.zeros(0, dtype=np.uint8)
            self.data_address = np.zeros(0, dtype=np.int64)
        self._fully_initialized = True

    def prepare_data(self, idx: int):
        """Run the pipeline on record ``idx``.

        An error raised by a transform keeps its type and message and gets a note
        (printed under the message) naming the dataset, the record and its image:
        some decoders do not name the file they fail on (e.g. OpenCV on an empty
        file, Pillow on any broken one).
        """
        data_info = self.get_data_info(idx)
        img_path = data_info.get('img_path')
        try:
            return self.pipeline(data_info)
        except Exception as err:
            if hasattr(err, 'add_note'):  # Python >= 3.11
                err.add_note(f'{type(self).__name__} ({self.split} split): while '
                             f'loading record {idx}, image {img_path}')
            raise

    def _assign_instance_indices(self) -> None:
        image_index, person_id, bboxes = [], [], []
        if self.split == 'train':
            for i, record in enumerate(self.data_list):
                for instance in record['instances']:
                    instance['instance_index'] = len(image_index)
                    image_index.append(i)
                    person_id.append(instance['person_id'])
                    bboxes.append(instance['bbox'])
        self._num_instances = len(image_index)
        self._instance_table = dict(
            image_index=np.asarray(image_index, dtype=np.int64),
            person_id=np.asarray(person_id, dtype=np.int64),
            bboxes=np.asarray(bboxes, dtype=np.float32).reshape(-1, 4))

    # ------------------------------------------------------------ public info

    @property
    def num_instances(self) -> int:
        """N, the number of train boxes (memory-bank rows); 0 on the test split."""
        if not self._fully_initialized:
            self.full_init()
        return self._num_instances

    def instance_table(self) -> Dict[str, np.ndarray]:
        """Per train box, in ``instance_index`` order.

        Returns:
            dict with ``image_index`` (N,) int64 (position of the box's record),
            ``person_id`` (N,) int64 (diagnostics only) and ``bboxes`` (N, 4)
            float32. Empty arrays on the test split.
        """
        if not self._fully_initialized:
            self.full_init()
        return {k: v.copy() for k, v in self._instance_table.items()}
