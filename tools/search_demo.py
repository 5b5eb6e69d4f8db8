"""Search one query person in a gallery and draw the top-k matches into a PNG.

Free images::

    python tools/search_demo.py CONFIG CHECKPOINT --query-image q.jpg \
        --query-box x1 y1 x2 y2 --gallery a.jpg b.jpg ... [--gt-json gt.json]

A query of a SynthPS / PRW test protocol (the gallery and the ground truth come
from the dataset)::

    python tools/search_demo.py CONFIG CHECKPOINT --dataset-root data/synthps \
        --query-index 3

Runs the model with the training thread policy (the config's ``TorchThreadsHook``,
or ``--threads``). Every query re-detects the whole gallery: to search the same
footage often, index it once with ``tools/index_gallery.py``. Writes ``--out``
(default ``search.png``): the query with its box, then its top-k
matches with box, rank and similarity; green when a match is the query's person,
red when not (known with ``--dataset-root`` or ``--gt-json``). ``--gt-json`` is a
JSON object mapping a gallery image (file name or path as given) to the list of
``[x1, y1, x2, y2]`` boxes of the query's person in it.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmssl.utils import (add_model_run_arguments, add_query_box_arguments,
                             model_tool_parser)
    parser = model_tool_parser(
        'Search a query person in gallery images and draw the top-k')
    add_query_box_arguments(parser)
    gallery = parser.add_mutually_exclusive_group()
    gallery.add_argument('--gallery', nargs='+', help='gallery images')
    gallery.add_argument('--gallery-dir', help='folder of gallery images')
    parser.add_argument('--gt-json', help='JSON {gallery image: [[x1, y1, x2, y2], '
                        '...]} of the query person, to colour matches')
    parser.add_argument('--dataset-root',
                        help='SynthPS or PRW root: search a query of its test '
                        'protocol (needs --query-index)')
    parser.add_argument('--query-index', type=int,
                        help='query of the dataset protocol')
    parser.add_argument('--protocol', help='protocol name (default: the '
                        "dataset's default, e.g. single_view)")
    parser.add_argument('--exclude-query-image', action='store_true',
                        help='leave the query image out of --gallery/--gallery-dir')
    parser.add_argument('--topk', type=int, default=5, help='matches drawn')
    parser.add_argument('--score-thr', type=float, default=0.5,
                        help='detection score threshold')
    parser.add_argument('--context', type=float, default=None,
                        help='crop images around the boxes with this margin (in '
                        'box sizes); default: whole images')
    parser.add_argument('--out', default='search.png', help='output PNG')
    add_model_run_arguments(parser)
    args = parser.parse_args(argv)
    if args.dataset_root is not None:
        if args.query_index is None:
            parser.error('--dataset-root needs --query-index')
        if args.query_image or args.query_box or args.gallery or args.gallery_dir:
            parser.error('--dataset-root takes the query and the gallery from the '
                         'dataset: drop --query-image/--query-box/--gallery*')
    else:
        if not (args.query_image and args.query_box):
            parser.error('give --query-image and --query-box (or --dataset-root '
                         'and --query-index)')
        if not (args.gallery or args.gallery_dir):
            parser.error('give --gallery or --gallery-dir')
    if args.topk < 1:
        parser.error('--topk must be >= 1')
    return args


def list_gallery_dir(folder: str) -> List[str]:
    """Image files of a folder (not its sub-folders), sorted by name."""
    from mmssl.apis.gallery_sources import list_images
    return list_images(folder, recursive=False)


def read_gt_json(path: str, gallery: Sequence[str]) -> Dict[int, np.ndarray]:
    """Gallery position -> ``(m, 4)`` boxes of the query person, from ``--gt-json``."""
    with open(path, encoding='utf-8') as handle:
        try:
            table = json.load(handle)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path}: not valid JSON ({err})') from err
    if not isinstance(table, dict):
        raise ValueError(f'{path}: expected an object {{gallery image: boxes}}')
    positives = {}
    for index, image in enumerate(gallery):
        for key in (image, osp.basename(image)):
            if key in table:
                try:
                    boxes = np.asarray(table[key], dtype=np.float64).reshape(-1, 4)
                except ValueError as err:
                    raise ValueError(f'{path}: boxes of {key!r} must be '
                                     f'[[x1, y1, x2, y2], ...] ({err})') from err
                positives[index] = boxes
                break
    return positives


def dataset_query(root: str, query_index: int, protocol: Optional[str]):
    """Query image, box, gallery paths and positives of a SynthPS/PRW query."""
    from mmssl.apis import dataset_protocol_query
    from mmssl.datasets import PRWDataset, SynthPSDataset
    if not osp.isfile(osp.join(root, 'frame_test.mat')):
        raise FileNotFoundError(f'{root}: no frame_test.mat, not a PRW/SynthPS root')
    dataset_type = (SynthPSDataset if osp.isfile(osp.join(root, 'synthps.json'))
                    else PRWDataset)
    dataset = dataset_type(data_root=root, split='test', test_mode=True,
                           pipeline=[])
    query = dataset_protocol_query(dataset, query_index, protocol)
    gallery_ids = dataset.metainfo['search_protocol']['gallery_img_ids']
    query_path = dataset.get_data_info(gallery_ids.index(query.img_id))['img_path']
    paths = [dataset.get_data_info(int(i))['img_path'] for i in query.gallery_indices]
    position = {int(g): p for p, g in enumerate(query.gallery_indices)}
    positives = {position[g]: boxes for g, boxes in query.positive_boxes.items()}
    title = (f'query {query_index}: person {query.person_id} in {query.img_id} '
             f'({query.protocol}; {len(positives)} gallery images hold the person)')
    return query_path, query.bbox.tolist(), paths, positives, title


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    """Run the search, print the ranking, write the picture; return the matches."""
    args = parse_args(argv)
    import mmcv

    from mmssl.apis import init_searcher, match_person_boxes, search
    from mmssl.utils import apply_thread_policy
    from mmssl.visualization import draw_search_panel, save_figure

    if args.dataset_root is not None:
        query_image, query_box, gallery, positives, title = dataset_query(
            args.dataset_root, args.query_index, args.protocol)
        exclude = False  # the protocol's gallery already leaves it out
    else:
        query_image, query_box = args.query_image, args.query_box
        gallery = (list(args.gallery) if args.gallery else
                   list_gallery_dir(args.gallery_dir))
        positives = read_gt_json(args.gt_json, gallery) if args.gt_json else None
        title = f'query: {osp.basename(query_image)} {[round(v) for v in query_box]}'
        exclude = args.exclude_query_image
    model = init_searcher(args.config, args.checkpoint, device=args.device,
                          cfg_options=args.cfg_options)
    apply_thread_policy(model.cfg, args.threads, verbose=True)
    matches = search(model, query_image, query_box, gallery,
                     score_thr=args.score_thr, topk=args.topk,
                     exclude_query_image=exclude, progress=True)
    correct = None
    if positives is not None:
        correct = [
            bool(match_person_boxes(np.array([m['bbox']]),
                                    positives[m['gallery_index']])[0])
            if m['gallery_index'] in positives else False for m in matches
        ]
        for match, is_correct in zip(matches, correct):
            match['correct'] = is_correct
    print(f'\n{"rank":>4}  {"similarity":>10}  {"score":>6}  box{"":<22}  image')
    for match in matches:
        box = ' '.join(f'{v:6.1f}' for v in match['bbox'])
        mark = {True: '  (correct)', False: '  (wrong)'}.get(match.get('correct'), '')
        print(f'{match["rank"]:>4}  {match["similarity"]:>10.4f}  '
              f'{match["score"]:>6.3f}  {box}  {match["image"]}{mark}')
    figure = draw_search_panel(
        mmcv.imread(query_image), query_box,
        [mmcv.imread(m['image']) for m in matches],
        np.array([m['bbox'] for m in matches]).reshape(-1, 4),
        [m['similarity'] for m in matches], correct=correct,
        match_titles=[osp.basename(m['image']) for m in matches], title=title,
        context=args.context)
    save_figure(figure, args.out)
    print(f'search picture written to {args.out}')
    return matches


if __name__ == '__main__':
    main()
