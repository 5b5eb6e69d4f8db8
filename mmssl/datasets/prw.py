"""The PRW reader (docs/datasets.md, PRW): frames, per-frame .mat boxes, query list."""
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

import numpy as np

from mmdet.registry import DATASETS

from .formats import (area_inside_image, clip_xywh_boxes, load_prw_annotation,
                      load_prw_name_list, load_prw_queries, prw_seqnet_boxes,
                      prw_seqnet_query_boxes)
from .person_search_dataset import PersonSearchDataset, TestSplit, person_instance

PRW_UNLABELLED_ID = -2
"""PRW's ``pid`` of a person without identity."""


def parse_prw_camera(name: str) -> int:
    """The camera of a PRW frame name: the number after the leading ``c``.

    ``'c3s2_012345'`` -> 3.

    Raises:
        ValueError: the name does not start with ``c<digits>``.
    """
    match = re.match(r'c(\d+)', osp.basename(name))
    if match is None:
        raise ValueError(f'PRW frame name {name!r} does not start with '
                         'c<camera digit>')
    return int(match.group(1))


def _frame_stem(name: str) -> str:
    """Frame names in the split files come without ``.jpg``; accept both."""
    return name[:-4] if name.lower().endswith('.jpg') else name


@DATASETS.register_module()
class PRWDataset(PersonSearchDataset):
    """PRW (Zheng et al., CVPR 2017) read from its official layout.

    ``data_root`` holds ``frames/<name>.jpg``, ``annotations/<name>.jpg.mat`` (rows
    ``[pid, x, y, w, h]`` under the first present key of ``box_new``, ``anno_file``,
    ``anno_previous``), ``frame_train.mat`` (``img_index_train``),
    ``frame_test.mat`` (``img_index_test``) and ``query_info.txt``. ``person_id``
    is the file's pid (-2: unlabelled). The camera is the digit after ``c`` in the
    frame name. A frame listed twice in a split file, or in both, is an error naming
    the file(s).

    Boxes (``box_reading``, docs/datasets.md "How boxes are read"):

    * ``'seqnet'`` (default on the test split): as SeqNet's reader, which the
      papers' figures come from: ``x``, ``y``, ``w``, ``h`` clipped at 0, then
      ``x2 = x + w``, ``y2 = y + h``, truncated to integers; every box is kept (those
      without area inside the frame are counted in a warning). Queries are
      truncated, then clipped at 0, as SeqNet's query reader does.
    * ``'clipped'`` (default on the train split): float corners clipped to the
      frame; boxes with no area left are dropped with a logged count.

    A query without area inside its frame is an error either way.

    Test protocols: ``single_view`` (gallery = every test frame but the query's
    own; the default) and ``multi_view`` (also without the frames of the query's
    camera).

    Args:
        default_protocol: the protocol reported without suffix.
        box_reading: ``'seqnet'``, ``'clipped'`` or None (by split, see above).
        *args, **kwargs: :class:`PersonSearchDataset` arguments (``data_root``,
            ``split``, ``mask_dir``, ``read_image_sizes``, ``pipeline``, ...).
    """

    PROTOCOLS = ('single_view', 'multi_view')

    def __init__(self, *args, default_protocol: str = 'single_view',
                 box_reading: Optional[str] = None, **kwargs) -> None:
        self.set_reading_options(default_protocol, self.PROTOCOLS, box_reading,
                                 kwargs)
        super().__init__(*args, **kwargs)

    def _read_boxes(self, xywh: np.ndarray, width: int,
                    height: int) -> Tuple[np.ndarray, np.ndarray, int]:
        """Corners of a frame's boxes, which ones to keep, and how many of the kept
        ones have no area inside the frame."""
        if self.box_reading == 'clipped':
            xyxy, keep = clip_xywh_boxes(xywh, width, height)
            return xyxy, keep, 0
        xyxy = prw_seqnet_boxes(xywh)
        empty = int((~area_inside_image(xyxy, width, height)).sum())
        return xyxy, np.ones(len(xyxy), dtype=bool), empty

    def _load_frames(self, names: List[str]) -> Tuple[List[dict], int, int]:
        records, dropped, empty = [], 0, 0
        for name in names:
            stem = _frame_stem(name)
            img_id = stem + '.jpg'
            img_path = osp.join(self.root, 'frames', img_id)
            width, height = self.image_size(img_path)
            rows = load_prw_annotation(
                osp.join(self.root, 'annotations', img_id + '.mat'))
            xyxy, keep, num_empty = self._read_boxes(rows[:, 1:5], width, height)
            dropped += int((~keep).sum())
            empty += num_empty
            instances = [
                person_instance(xyxy[k], int(rows[k, 0]), k)
                for k in range(len(rows)) if keep[k]
            ]
            records.append(
                self.make_record(img_path, img_id, height, width,
                                 parse_prw_camera(stem), instances))
        return records, dropped, empty

    def _log_boxes(self, split: str, dropped: int, empty: int) -> None:
        source = f'{type(self).__name__} {split}'
        self.log_dropped_boxes(dropped, source, 'no area left inside the image')
        self.log_kept_empty_boxes(empty, source)

    SPLIT_FILES = {'train': ('frame_train.mat', 'img_index_train'),
                   'test': ('frame_test.mat', 'img_index_test')}

    def _split_names(self, split: str) -> List[str]:
        """The frame names of a split, checked against the other split's file.

        Raises:
            ValueError: a frame is listed in both split files (names both files
                and the frame).
        """
        filename, key = self.SPLIT_FILES[split]
        path = osp.join(self.root, filename)
        names = load_prw_name_list(path, key)
        other_filename, other_key = self.SPLIT_FILES[
            'test' if split == 'train' else 'train']
        other_path = osp.join(self.root, other_filename)
        if osp.isfile(other_path):
            other = {_frame_stem(n) for n in load_prw_name_list(other_path,
                                                                other_key)}
            for name in names:
                if _frame_stem(name) in other:
                    raise ValueError(f'{path} and {other_path} both list frame '
                                     f'{name}; a frame belongs to one split')
        return names

    def load_train_records(self) -> List[dict]:
        """Read the frames of ``frame_train.mat``."""
        records, dropped, empty = self._load_frames(self._split_names('train'))
        self._log_boxes('train', dropped, empty)
        return records

    def load_test_split(self) -> TestSplit:
        """Read ``frame_test.mat`` (gallery) and ``query_info.txt`` (queries)."""
        gallery, dropped, empty = self._load_frames(self._split_names('test'))
        self._log_boxes('test', dropped, empty)
        sizes: Dict[str, Tuple[int, int]] = {
            r['img_id']: (r['width'], r['height']) for r in gallery
        }
        query_file = osp.join(self.root, 'query_info.txt')
        queries = []
        for line, (pid, box, name) in enumerate(load_prw_queries(query_file), 1):
            img_id = _frame_stem(name) + '.jpg'
            if img_id not in sizes:
                raise ValueError(f'{query_file}: query {line} is in frame {name}, '
                                 'which is not in frame_test.mat')
            if self.box_reading == 'clipped':
                xyxy, valid = clip_xywh_boxes(box[None], *sizes[img_id])
            else:
                xyxy = prw_seqnet_query_boxes(box[None])
                valid = area_inside_image(xyxy, *sizes[img_id])
            if not valid[0]:
                raise ValueError(f'{query_file}: query {line} has no area inside '
                                 f'its frame {img_id} (box {box.tolist()})')
            queries.append(
                dict(img_id=img_id, cam_id=parse_prw_camera(name),
                     person_id=pid, bbox=xyxy[0].tolist()))
        galleries = {
            'single_view':
            dict(gallery=None, exclude_same_camera=False, positives=None),
            'multi_view':
            dict(gallery=None, exclude_same_camera=True, positives=None),
        }
        return TestSplit(gallery, queries, galleries, self.default_protocol)
