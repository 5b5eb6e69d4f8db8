"""Search a person in a gallery index (``tools/index_gallery.py``) and draw the matches.

    python tools/search_gallery.py INDEX_DIR --query-image q.jpg \
        --query-box X1 Y1 X2 Y2 [--topk 10] [--out result.png]
    python tools/search_gallery.py INDEX_DIR --query-crop person.png

The model is rebuilt from the config and checkpoint recorded in the index, or from
``--config`` / ``--checkpoint`` (they must be the ones that built the index). Prints
the ranked matches (similarity, detection score, box, source, frame and time) and
writes ``--out``: the query and each match, every one as its whole frame with the
box and, below it, the person enlarged. ``--query-crop`` takes a picture of the
person alone (``docs/gallery.md``).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Sequence

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmssl.utils import add_model_run_arguments, add_query_box_arguments
    parser = argparse.ArgumentParser(
        description='Search a query person in a gallery index')
    parser.add_argument('index', help='index folder (tools/index_gallery.py --out)')
    add_query_box_arguments(parser)
    parser.add_argument('--query-crop', help='picture of the query person alone')
    parser.add_argument('--topk', type=int, default=10, help='matches shown')
    parser.add_argument('--exclude-query-image', action='store_true',
                        help='leave the detections of --query-image out (when it '
                        'is itself in the gallery)')
    parser.add_argument('--out', default='gallery_search.png', help='output PNG')
    parser.add_argument('--crop-context', type=float, default=0.25,
                        help='margin around each enlarged person, in box sizes')
    parser.add_argument('--config', help="model config (default: the index's)")
    parser.add_argument('--checkpoint', help="checkpoint (default: the index's)")
    parser.add_argument('--ef-search', type=int, default=None,
                        help='HNSW search breadth (approximate indexes only)')
    add_model_run_arguments(parser)
    args = parser.parse_args(argv)
    if args.query_crop is not None:
        if args.query_image or args.query_box:
            parser.error('give --query-crop, or --query-image with --query-box')
    elif not (args.query_image and args.query_box):
        parser.error('give --query-image and --query-box, or --query-crop')
    if args.exclude_query_image and args.query_image is None:
        parser.error('--exclude-query-image needs --query-image')
    if args.topk < 1:
        parser.error('--topk must be >= 1')
    return args


def where(match) -> str:
    """Frame and time of a match, in words."""
    if match.kind != 'video':
        return ''
    time = '' if match.time is None else f' ({match.time:.2f} s)'
    return f'frame {match.frame}{time}'


def draw(matches, query_image, query_box, out: str, title: str,
         crop_context: float) -> None:
    """Write the picture: query and matches, whole frames above, persons below."""
    import numpy as np

    from mmssl.apis.gallery_sources import read_source_frame
    from mmssl.visualization import draw_search_panel, save_figure
    shown = [(m, read_source_frame(m.source, m.kind, m.frame)) for m in matches]
    shown = [(m, image) for m, image in shown if image is not None]
    figure = draw_search_panel(
        query_image, query_box, [image for _, image in shown],
        np.array([m.bbox for m, _ in shown]).reshape(-1, 4),
        [m.similarity for m, _ in shown], ranks=[m.rank for m, _ in shown],
        match_titles=[f'{osp.basename(m.source)} {where(m)}'.strip()
                      for m, _ in shown],
        title=title, crop_context=crop_context)
    save_figure(figure, out)


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    """Search, print the ranking, write the picture; return the matches."""
    args = parse_args(argv)
    from mmssl.apis import GalleryIndex
    from mmssl.apis.gallery_model import crop_canvas
    from mmssl.apis.gallery_sources import read_image
    from mmssl.utils import apply_thread_policy
    settings = {} if args.ef_search is None else dict(ef_search=args.ef_search)
    index = GalleryIndex.load_with_searcher(args.index, args.config, args.checkpoint,
                                            args.device, args.cfg_options, **settings)
    apply_thread_policy(index.model.cfg, args.threads, verbose=True)
    if args.query_crop is not None:
        crop = read_image(args.query_crop)
        if crop is None:
            raise ValueError(f'{args.query_crop}: unreadable query crop')
        query_image, query_box = crop_canvas(crop, index.frame_size())
        title = f'query crop: {osp.basename(args.query_crop)}'
    else:
        query_image = read_image(args.query_image)
        if query_image is None:
            raise ValueError(f'{args.query_image}: unreadable query image')
        query_box = list(args.query_box)
        title = (f'query: {osp.basename(args.query_image)} '
                 f'{[round(v) for v in query_box]}')
    feature = index.query_feature(query_image, query_box)
    exclude = osp.abspath(args.query_image) if args.exclude_query_image else None
    matches = index.search(feature, k=args.topk, exclude_source=exclude)
    print(f'\n{len(index)} detections searched ({index.search_kind})')
    print(f'{"rank":>4}  {"similarity":>10}  {"score":>6}  box{"":<26}  source')
    for m in matches:
        box = ' '.join(f'{v:7.1f}' for v in m.bbox)
        print(f'{m.rank:>4}  {m.similarity:>10.4f}  {m.score:>6.3f}  {box}  '
              f'{m.source} {where(m)}'.rstrip())
    draw(matches, query_image, query_box, args.out, title, args.crop_context)
    print(f'search picture written to {args.out}')
    index.close()
    return [m.as_dict() for m in matches]


if __name__ == '__main__':
    try:
        main()
    except (ValueError, FileNotFoundError) as error:
        sys.exit(f'error: {error}')
