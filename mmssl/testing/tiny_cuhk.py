"""A tiny CUHK-SYSU root in the exact official formats, for tests across the project.

``scipy.io.loadmat`` of the files gives the official nesting (see
:mod:`mmssl.datasets.formats.cuhk_format`): struct arrays of 1 x N records, a cell
for ``pool`` and ``Train``, empty ``idlocate`` for gallery images without the
person, positives first. The content is fixed (96 x 64 reference frame):

* train: ``s1``-``s4``; 3 images kept (``s4`` has only a box with ``h < 0``), 6
  valid boxes, 2 dropped (``w = 0`` in ``s3``, ``h < 0`` in ``s4``), a box with
  negative ``x`` in ``s2``; ``Train.mat`` names p1 (in s1, s2) and p2 (in s1, s3);
* test (``pool.mat``): ``s10``-``s15``; 3 queries: p100 (in s10; also in s11,
  s13), p101 (in s10; also in s12, s15), p102 (in s12; also in s13); boxes of
  s11 row 1 and s14 belong to no test identity.

``TestG{N}`` galleries hold the positives first, then the other test images (not
the query's) in name order, ``3 + rank`` entries where ``rank`` is the position of
``N`` in ``(50, 100, 500, 1000, 2000, 4000)``, capped at the 5 available.
"""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

from mmssl.datasets.formats import (CUHK_GALLERY_SIZES, CUHKImageAnnotation,
                                    CUHKPersonBox, CUHKTestQuery,
                                    CUHKTrainIdentity, cuhk_test_protocol_key,
                                    cuhk_test_protocol_path, save_cuhk_images,
                                    save_cuhk_pool, save_cuhk_test_protocol,
                                    save_cuhk_train_identities)
from .scene_images import write_instance_mask, write_scene_image

REFERENCE_HEIGHT, REFERENCE_WIDTH = 64, 96

# image name -> boxes [x, y, w, h] (in Images.mat order)
TINY_CUHK_TRAIN: Dict[str, List[List[float]]] = {
    's1.jpg': [[10, 8, 12, 30], [40, 10, 14, 32], [70, 20, 10, 25]],
    's2.jpg': [[-3, 5, 12, 30], [50, 12, 15, 40]],
    's3.jpg': [[20, 10, 12, 30], [60, 4, 0, 30]],
    's4.jpg': [[30, 10, 10, -5]],
}
TINY_CUHK_TEST: Dict[str, List[List[float]]] = {
    's10.jpg': [[10, 10, 12, 30], [50, 8, 14, 34]],
    's11.jpg': [[30, 12, 12, 30], [70, 5, 10, 25]],
    's12.jpg': [[20, 6, 14, 34], [60, 10, 12, 36]],
    's13.jpg': [[5, 20, 12, 30], [70, 10, 12, 30]],
    's14.jpg': [[40, 10, 12, 30]],
    's15.jpg': [[40, 10, 14, 34]],
}
# identity -> [(image, row in that image)]
TINY_CUHK_TRAIN_IDS: Dict[str, List[Tuple[str, int]]] = {
    'p1': [('s1.jpg', 0), ('s2.jpg', 0)],
    'p2': [('s1.jpg', 1), ('s3.jpg', 0)],
}
# query identity -> (query (image, row), positives [(image, row)])
TINY_CUHK_QUERIES: Dict[str, Tuple[Tuple[str, int], List[Tuple[str, int]]]] = {
    'p100': (('s10.jpg', 0), [('s11.jpg', 0), ('s13.jpg', 1)]),
    'p101': (('s10.jpg', 1), [('s12.jpg', 0), ('s15.jpg', 0)]),
    'p102': (('s12.jpg', 1), [('s13.jpg', 0)]),
}


def tiny_cuhk_gallery_length(gallery_size: int, available: int) -> int:
    """Entries of the tiny ``TestG{gallery_size}`` galleries."""
    rank = (CUHK_GALLERY_SIZES.index(gallery_size)
            if gallery_size in CUHK_GALLERY_SIZES else len(CUHK_GALLERY_SIZES))
    return min(3 + rank, available)


def write_tiny_cuhk_root(root: str,
                         height: int = REFERENCE_HEIGHT,
                         width: int = REFERENCE_WIDTH,
                         gallery_sizes: Sequence[int] = (50, 100),
                         with_masks: bool = True,
                         seed: int = 0) -> dict:
    """Write a tiny CUHK-SYSU root (``Image/SSM/``, ``annotation/``).

    Args:
        root: the folder to write (created).
        height, width: image size; boxes are scaled from the 96 x 64 reference.
        gallery_sizes: the ``TestG{N}.mat`` files to write.
        with_masks: also write ``masks/<name>.png`` instance-index masks.
        seed: seed of the image noise.

    Returns:
        dict with ``root``, ``height``, ``width``, ``images`` (name -> scaled
        ``(K, 4)`` xywh boxes), ``pool`` (test names), ``galleries`` (size ->
        per-query list of gallery image names) and ``queries`` (identity ->
        ``(image, row)``).
    """
    sx, sy = width / REFERENCE_WIDTH, height / REFERENCE_HEIGHT
    scale = np.array([sx, sy, sx, sy])
    boxes = {
        name: np.asarray(rows, dtype=np.float64).reshape(-1, 4) * scale
        for name, rows in {**TINY_CUHK_TRAIN, **TINY_CUHK_TEST}.items()
    }
    for index, (name, rows) in enumerate(boxes.items()):
        write_scene_image(
            osp.join(root, 'Image', 'SSM', name), rows, height, width,
            seed * 1000 + index)
        if with_masks:
            write_instance_mask(
                osp.join(root, 'masks', osp.splitext(name)[0] + '.png'), rows,
                (rows[:, 2] > 0) & (rows[:, 3] > 0), height, width)
    annotation = osp.join(root, 'annotation')
    os.makedirs(osp.join(annotation, 'test', 'train_test'), exist_ok=True)
    save_cuhk_images(
        osp.join(annotation, 'Images.mat'), [
            CUHKImageAnnotation(name, rows, np.zeros(len(rows), bool))
            for name, rows in boxes.items()
        ])
    pool = list(TINY_CUHK_TEST)
    save_cuhk_pool(osp.join(annotation, 'pool.mat'), pool)

    def person(name: str, row: int) -> CUHKPersonBox:
        return CUHKPersonBox(name, boxes[name][row], False)

    save_cuhk_train_identities(
        osp.join(annotation, 'test', 'train_test', 'Train.mat'), [
            CUHKTrainIdentity(pid, [person(n, r) for n, r in appearances])
            for pid, appearances in TINY_CUHK_TRAIN_IDS.items()
        ])
    galleries = {}
    for size in gallery_sizes:
        records, names_per_query = [], []
        for pid, (query, positives) in TINY_CUHK_QUERIES.items():
            positive_names = [n for n, _ in positives]
            others = sorted(
                (n for n in pool
                 if n != query[0] and n not in positive_names),
                key=lambda n: int(n[1:-4]))
            length = tiny_cuhk_gallery_length(size, len(pool) - 1)
            gallery = [person(n, r) for n, r in positives]
            gallery += [CUHKPersonBox(n, None, False)
                        for n in others[:length - len(gallery)]]
            records.append(CUHKTestQuery(pid, person(*query), gallery))
            names_per_query.append([g.image_name for g in gallery])
        save_cuhk_test_protocol(
            cuhk_test_protocol_path(root, size), cuhk_test_protocol_key(size),
            records)
        galleries[size] = names_per_query
    return dict(root=root, height=height, width=width, images=boxes, pool=pool,
                galleries=galleries,
                queries={pid: q for pid, (q, _) in TINY_CUHK_QUERIES.items()})
