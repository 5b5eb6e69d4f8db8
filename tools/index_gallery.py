"""Detect and embed every person of your footage once, into a gallery index.

    python tools/index_gallery.py CONFIG CHECKPOINT --images DIR --out INDEX_DIR
    python tools/index_gallery.py CONFIG CHECKPOINT --video FILE [--every N] \
        --out INDEX_DIR [--append]

Runs the model in batches (the config's test batch size, or ``--batch-size``) with
the training thread policy (the config's ``TorchThreadsHook``, or ``--threads``),
and writes ``INDEX_DIR`` (``docs/gallery.md``): the embeddings in a faiss index and
one SQLite row per detection (source, frame, time, box, score), committed every
``--flush-every`` frames. Run the same command again after an interruption: it
resumes without redoing finished images or frames. ``--append`` adds other footage
to an existing index. Unreadable images and frames are skipped with a warning
naming them; a checkpoint or config other than the index's is an error.
Search it with ``tools/search_gallery.py`` or ``tools/serve_gallery.py``.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmssl.utils import add_model_run_arguments, model_tool_parser
    parser = model_tool_parser(
        'Index the persons of a folder of images or of a video')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--images', help='folder of images (searched recursively)')
    source.add_argument('--video', help='video file')
    parser.add_argument('--every', type=int, default=1,
                        help='index every N-th frame of the video')
    parser.add_argument('--out', required=True, help='index folder')
    parser.add_argument('--append', action='store_true',
                        help='add this footage to the existing index in --out')
    parser.add_argument('--batch-size', type=int, default=None,
                        help="frames per forward pass (default: the config's test "
                        'batch size)')
    parser.add_argument('--score-thr', type=float, default=0.5,
                        help='detections scoring lower are not indexed (new '
                        'index only)')
    parser.add_argument('--index-type', choices=['auto', 'exact', 'hnsw'],
                        default=None, help='exact search, HNSW, or auto: exact up '
                        'to --approximate-above rows (default auto)')
    parser.add_argument('--approximate-above', type=int, default=None,
                        help='row count above which auto switches to HNSW '
                        '(default 1,000,000)')
    parser.add_argument('--flush-every', type=int, default=100,
                        help='commit to disk every N frames')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    add_model_run_arguments(parser)
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error('--every must be >= 1')
    if args.video is None and args.every != 1:
        parser.error('--every applies to --video only')
    return args


def this_input(args: argparse.Namespace) -> dict:
    """The ``run_input`` the index records for this command's footage."""
    if args.images is not None:
        return dict(kind='images', path=osp.abspath(args.images))
    return dict(kind='video', path=osp.abspath(args.video), every=args.every)


def describe(run_input: dict) -> str:
    """A run input in command-line words."""
    if run_input['kind'] == 'images':
        return f'--images {run_input["path"]}'
    return f'--video {run_input["path"]} --every {run_input.get("every", 1)}'


def open_index(args: argparse.Namespace, model):
    """The index of ``--out``: opened (resume / append) or created."""
    from mmssl.apis import GalleryIndex, VectorIndexSettings
    from mmssl.apis.gallery_store import DB_FILE
    overrides = {k: v for k, v in (('index_type', args.index_type),
                                   ('approximate_above', args.approximate_above))
                 if v is not None}
    if not osp.isfile(osp.join(args.out, DB_FILE)):
        print(f'new gallery index in {args.out}')
        return GalleryIndex.create(args.out, model, checkpoint=args.checkpoint,
                                   score_thr=args.score_thr,
                                   settings=VectorIndexSettings(**overrides))
    index = GalleryIndex.load(args.out, model=model, **overrides)
    meta = index.meta
    interrupted = None if meta['complete'] else meta['run_input']
    if not args.append:
        if interrupted is None:
            raise FileExistsError(
                f'{args.out}: already holds a complete gallery index; pass --append '
                'to add footage to it, or choose another --out')
        if interrupted != this_input(args):
            raise ValueError(
                f'{args.out}: holds an interrupted run of {describe(interrupted)}; '
                'run that command again to resume it, or pass --append to add '
                'this footage')
        print(f'resuming the interrupted run in {args.out} ({len(index)} '
              'detections already indexed)')
    elif interrupted is not None and interrupted != this_input(args):
        print(f'note: the interrupted run of {describe(interrupted)} is not '
              'finished; run it again with --append to finish it')
    return index


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Index the footage; print and return the summary."""
    args = parse_args(argv)
    from mmssl.apis import init_searcher
    from mmssl.utils import apply_thread_policy

    model = init_searcher(args.config, args.checkpoint, device=args.device,
                          cfg_options=args.cfg_options)
    apply_thread_policy(model.cfg, args.threads, verbose=True)
    index = open_index(args, model)
    options = dict(batch_size=args.batch_size, progress=not args.no_progress,
                   flush_every=args.flush_every)
    if args.images is not None:
        summary = index.add_images(args.images, **options)
        print(f'{summary["images"]} images: {summary["already_indexed"]} already '
              f'indexed, {summary["frames"]} run, {len(summary["unreadable"])} '
              'unreadable (warned above)')
    else:
        summary = index.add_video(args.video, every=args.every, **options)
        if summary.get('unreadable'):
            print(f'{args.video}: unreadable video (warned above)')
        elif summary['already_indexed']:
            print(f'{args.video}: already indexed')
        else:
            print(f'{args.video}: {summary["frames"]} frames run from frame '
                  f'{summary["start_frame"]}, {len(summary["unreadable_frames"])} '
                  'unreadable (warned above)')
    if summary.get('frames'):
        print(f'{summary["detections"]} detections added in '
              f'{summary["seconds"]:.1f} s ({summary["frames_per_second"]:.2f} '
              'frames/s)')
    print(f'{args.out}: {len(index)} detections from {len(index.sources())} '
          f'sources, {index.search_kind} search')
    index.close()
    return summary


if __name__ == '__main__':
    try:
        main()
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        sys.exit(f'error: {error}')
