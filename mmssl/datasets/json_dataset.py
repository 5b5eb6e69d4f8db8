"""Person search in a COCO-style JSON file: the reader and the writer of the format.

The format (written by ``tools/dataset_converters/person_search_to_coco.py``, the
kind of file CGPS and DICL users have)::

    {
      "split": "train" | "test",
      "box_reading": "seqnet",           # optional: boxes kept as stored (below)
      "img_prefix": "frames",            # image folder relative to the data root
      "categories": [{"id": 1, "name": "person"}],
      "images": [{"id": 1, "file_name": "c1s1_000151.jpg", "width": 1920,
                  "height": 1080, "cam_id": 1}, ...],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                       "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
                       "person_id": 12, "ann_row": 0}, ...],
      "search_protocol": {...}           # test split: docs/internals.md section 2
    }

In ``search_protocol`` a gallery index array is a list and a ``positives`` dict a
JSON object whose keys are the gallery indices as strings. Boxes are clipped to the
image and those without area dropped, unless ``box_reading`` is ``"seqnet"``: the
boxes were written from a split read as SeqNet reads it (docs/datasets.md, "How boxes
are read") and are kept exactly as stored. ``images`` of a test file
are the gallery images; the query records are rebuilt from the protocol's queries,
as the native readers build them.
"""
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from mmengine.fileio import load

from mmdet.registry import DATASETS

from .formats import (BOX_READINGS, area_inside_image, clip_xywh_boxes,
                      note_first_entry)
from .person_search_dataset import (UNKNOWN_PERSON_ID, PersonSearchDataset,
                                    TestSplit, person_instance)

PERSON_CATEGORY_ID = 1


# ------------------------------------------------------------------ protocols


def protocol_to_json(protocol: dict) -> dict:
    """A search protocol with numpy arrays and int-keyed dicts made JSON-ready."""
    galleries = {}
    for name, spec in protocol['galleries'].items():
        galleries[name] = dict(
            gallery=None if spec['gallery'] is None else
            [np.asarray(g).astype(int).tolist() for g in spec['gallery']],
            exclude_same_camera=bool(spec['exclude_same_camera']),
            positives=None if spec['positives'] is None else [{
                str(int(k)): [float(v) for v in box]
                for k, box in positives.items()
            } for positives in spec['positives']])
    return dict(
        gallery_img_ids=list(protocol['gallery_img_ids']),
        queries=[
            dict(img_id=q['img_id'], cam_id=int(q['cam_id']),
                 person_id=int(q['person_id']),
                 bbox=[float(v) for v in q['bbox']])
            for q in protocol['queries']
        ],
        galleries=galleries,
        default=protocol['default'])


def protocol_from_json(block: dict) -> Dict[str, dict]:
    """The ``galleries`` of a JSON protocol block back as numpy arrays / int keys."""
    galleries = {}
    for name, spec in block['galleries'].items():
        galleries[name] = dict(
            gallery=None if spec.get('gallery') is None else
            [np.asarray(g, dtype=np.int64) for g in spec['gallery']],
            exclude_same_camera=bool(spec.get('exclude_same_camera', False)),
            positives=None if spec.get('positives') is None else [{
                int(k): [float(v) for v in box]
                for k, box in positives.items()
            } for positives in spec['positives']])
    return galleries


# -------------------------------------------------------------------- writing


def records_to_coco(records: List[dict],
                    split: str,
                    data_root: str,
                    search_protocol: Optional[dict] = None,
                    box_reading: Optional[str] = None) -> dict:
    """Write train or gallery records (``docs/internals.md`` section 1) as COCO.

    Args:
        records: the records; query records (``is_query``) are skipped, they are
            rebuilt from ``search_protocol['queries']``.
        split: ``'train'`` or ``'test'``.
        data_root: the root the image paths are relative to.
        search_protocol: the test split's protocol (required for ``'test'``).
        box_reading: the reader's ``box_reading``; ``'seqnet'`` is written into the
            file so that the boxes are read back as stored (not clipped again).

    Returns:
        The JSON-ready dict (see the module docstring).
    """
    if split == 'test' and search_protocol is None:
        raise ValueError('records_to_coco: the test split needs its '
                         'search_protocol')
    images, annotations, folders = [], [], set()
    for record in records:
        if record['is_query']:
            continue
        folders.add(osp.relpath(osp.dirname(record['img_path']), data_root))
        image_id = len(images) + 1
        images.append(
            dict(id=image_id, file_name=record['img_id'],
                 width=record['width'], height=record['height'],
                 cam_id=record['cam_id']))
        for instance in record['instances']:
            x1, y1, x2, y2 = instance['bbox']
            annotations.append(
                dict(id=len(annotations) + 1, image_id=image_id,
                     category_id=PERSON_CATEGORY_ID,
                     bbox=[x1, y1, x2 - x1, y2 - y1],
                     area=(x2 - x1) * (y2 - y1), iscrowd=0,
                     person_id=instance['person_id'],
                     ann_row=instance['ann_row']))
    if len(folders) > 1:
        raise ValueError(f'records_to_coco: images lie in several folders '
                         f'{sorted(folders)}; one img_prefix is expected')
    coco = dict(split=split)
    if box_reading == 'seqnet':
        coco['box_reading'] = box_reading
    coco.update(
        img_prefix=folders.pop() if folders else '',
        categories=[dict(id=PERSON_CATEGORY_ID, name='person')],
        images=images,
        annotations=annotations)
    if split == 'test':
        coco['search_protocol'] = protocol_to_json(search_protocol)
    return coco


# -------------------------------------------------------------------- reading


@DATASETS.register_module()
class PersonSearchJSONDataset(PersonSearchDataset):
    """Person search read from a COCO-style JSON file (see the module docstring).

    The image folder is ``data_prefix['img']`` when given, else
    ``<data_root>/<img_prefix of the file>``. Boxes are ``[x, y, w, h]``; they are
    clipped to the image, and those without area are dropped (logged count). Within
    an image the boxes are ordered by ``ann_row`` (the file order when absent);
    annotations of another category than ``person`` are skipped.

    Args:
        ann_file: the JSON file (relative to ``data_root`` or absolute).
        *args, **kwargs: :class:`PersonSearchDataset` arguments.
    """

    def _read(self) -> dict:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'{self.ann_file}: annotation file not found')
        coco = load(self.ann_file)
        for key in ('images', 'annotations'):
            if not isinstance(coco, dict) or key not in coco:
                raise ValueError(f'{self.ann_file}: not a COCO-style file (no '
                                 f'{key!r} list)')
        split = coco.get('split')
        if split is not None and split != self.split:
            raise ValueError(f'{self.ann_file}: holds the {split!r} split, the '
                             f'dataset was built with split={self.split!r}')
        if coco.get('box_reading', 'clipped') not in BOX_READINGS:
            raise ValueError(f'{self.ann_file}: box_reading must be one of '
                             f'{BOX_READINGS}, got {coco["box_reading"]!r}')
        return coco

    def _person_category(self, coco: dict) -> int:
        persons = [c['id'] for c in coco.get('categories', [])
                   if c.get('name') == 'person']
        return persons[0] if len(persons) == 1 else PERSON_CATEGORY_ID

    def _records(self, coco: dict) -> List[dict]:
        img_dir = self.data_prefix.get('img')
        if not img_dir:
            img_dir = osp.join(self.root, coco.get('img_prefix', ''))
        category = self._person_category(coco)
        per_image: Dict[int, List[dict]] = {}
        for i, ann in enumerate(coco['annotations']):
            if ann.get('category_id', category) != category:
                continue
            bbox = ann.get('bbox')
            if 'image_id' not in ann or bbox is None or len(bbox) != 4:
                raise ValueError(f'{self.ann_file}: annotation {i} needs an '
                                 'image_id and a bbox [x, y, w, h]')
            per_image.setdefault(ann['image_id'], []).append(ann)
        known = {image['id'] for image in coco['images']}
        orphans = set(per_image) - known
        if orphans:
            raise ValueError(f'{self.ann_file}: annotations refer to unknown '
                             f'image ids, e.g. {sorted(orphans)[0]}')
        as_stored = coco.get('box_reading') == 'seqnet'
        records, dropped, empty = [], 0, 0
        first_by_id, first_by_name = {}, {}
        for i, image in enumerate(coco['images']):
            for key in ('id', 'file_name', 'width', 'height'):
                if key not in image:
                    raise ValueError(f'{self.ann_file}: image {i} lacks {key!r}')
            name = image['file_name']
            note_first_entry(first_by_name, name, i,
                             f'{self.ann_file}: image {name} is listed twice',
                             'images')
            if image['id'] in first_by_id:
                raise ValueError(f'{self.ann_file}: image {i} ({name}) reuses the '
                                 f'id {image["id"]} of image '
                                 f'{first_by_id[image["id"]]}')
            first_by_id[image['id']] = i
            anns = per_image.get(image['id'], [])
            rows = [ann.get('ann_row', k) for k, ann in enumerate(anns)]
            order = np.argsort(rows, kind='stable')
            boxes = np.array([anns[k]['bbox'] for k in order],
                             dtype=np.float64).reshape(-1, 4)
            if as_stored:
                xyxy = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], 1)
                valid = np.ones(len(boxes), dtype=bool)
                empty += int((~area_inside_image(xyxy, image['width'],
                                                 image['height'])).sum())
            else:
                xyxy, valid = clip_xywh_boxes(boxes, image['width'], image['height'])
            dropped += int((~valid).sum())
            instances = [
                person_instance(
                    xyxy[j], anns[k].get('person_id', UNKNOWN_PERSON_ID),
                    rows[k]) for j, k in enumerate(order) if valid[j]
            ]
            records.append(
                self.make_record(
                    osp.join(img_dir, image['file_name']), image['file_name'],
                    image['height'], image['width'], image.get('cam_id', -1),
                    instances))
        self.log_dropped_boxes(dropped, self.ann_file, 'no area inside the image')
        self.log_kept_empty_boxes(empty, self.ann_file)
        return records

    def load_train_records(self) -> List[dict]:
        """Every image of the file, in file order."""
        return self._records(self._read())

    def load_test_split(self) -> TestSplit:
        """Gallery images from ``images``; queries from ``search_protocol``."""
        coco = self._read()
        block = coco.get('search_protocol')
        if block is None:
            raise ValueError(f'{self.ann_file}: the test split needs a '
                             '"search_protocol" block (write the file with '
                             'tools/dataset_converters/person_search_to_coco.py)')
        gallery = self._records(coco)
        ids = [r['img_id'] for r in gallery]
        if list(block.get('gallery_img_ids', ids)) != ids:
            raise ValueError(f'{self.ann_file}: search_protocol.gallery_img_ids '
                             'differ from the images list')
        return TestSplit(gallery, [dict(q) for q in block['queries']],
                         protocol_from_json(block), block['default'])
