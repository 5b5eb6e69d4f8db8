"""Convert a PRW or CUHK-SYSU root to the COCO-style person-search JSON.

Usage::

    python tools/dataset_converters/person_search_to_coco.py prw ROOT OUT.json \
        --split train
    python tools/dataset_converters/person_search_to_coco.py cuhk ROOT OUT.json \
        --split test --gallery-sizes 50 100 --full-gallery

The file holds ``images`` (with ``cam_id``), ``annotations`` (``bbox`` as
``[x, y, w, h]``, ``category_id`` 1, ``person_id``, ``ann_row``) and, for the test
split, a ``search_protocol`` block (docs/internals.md section 2, lists instead of
arrays). ``PersonSearchJSONDataset`` reads it back into the same records as the
native reader (boxes are the native reader's: clipped, invalid ones dropped).
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional

try:
    import mmssl  # noqa: F401
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a PRW / CUHK-SYSU split as COCO-style JSON with '
        'person ids (and the search protocol for the test split).')
    parser.add_argument('dataset', choices=('prw', 'cuhk'))
    parser.add_argument('root', help='dataset root in its official layout')
    parser.add_argument('out', help='output .json file')
    parser.add_argument('--split', choices=('train', 'test'), default='train')
    parser.add_argument(
        '--gallery-sizes', type=int, nargs='+', default=[100],
        help='CUHK-SYSU: the TestG<N>.mat protocols to include (test split)')
    parser.add_argument(
        '--full-gallery', action='store_true',
        help='CUHK-SYSU: also include the "full" gallery protocol')
    parser.add_argument('--indent', type=int, default=None,
                        help='indent the JSON (default: compact)')
    return parser.parse_args(argv)


def convert(dataset: str, root: str, split: str, gallery_sizes=(100, ),
            full_gallery: bool = False) -> dict:
    """Read ``root`` with the native reader and return the COCO-style dict."""
    from mmssl.datasets import (CUHKSYSUDataset, PRWDataset,
                                records_to_coco)
    kwargs = dict(data_root=root, split=split, serialize_data=False,
                  mask_dir=None, pipeline=[])
    if dataset == 'prw':
        reader = PRWDataset(**kwargs)
    else:
        reader = CUHKSYSUDataset(gallery_sizes=tuple(gallery_sizes),
                                 full_gallery=full_gallery, **kwargs)
    return records_to_coco(
        reader.data_list, split, root,
        reader.metainfo.get('search_protocol') if split == 'test' else None)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    coco = convert(args.dataset, args.root, args.split, args.gallery_sizes,
                   args.full_gallery)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(coco, f, indent=args.indent)
    protocol = coco.get('search_protocol')
    print(f'{args.out}: {len(coco["images"])} images, '
          f'{len(coco["annotations"])} boxes' +
          (f', {len(protocol["queries"])} queries, protocols '
           f'{sorted(protocol["galleries"])}' if protocol else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
