"""The SynthPS command line: render a root, or print the statistics of one.

Examples::

    mmssl-synthps --out data/synthps
    mmssl-synthps --out /tmp/tiny --num-train-ids 6 --num-test-ids 4 \\
        --num-train-frames 12 --num-test-frames 8
    python -m mmssl.synthps --out data/synthps --stats-only
"""
import argparse
import json
import time
from typing import Optional, Sequence

from .render import render_synthps
from .statistics import format_statistics, synthps_statistics


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mmssl-synthps``."""
    parser = argparse.ArgumentParser(
        prog='mmssl-synthps',
        description='Render SynthPS, the synthetic person-search dataset, in the '
        'PRW layout and print its statistics.')
    parser.add_argument('--out', required=True,
                        help='dataset root to render into (or to read with '
                        '--stats-only)')
    parser.add_argument('--stats-only', action='store_true',
                        help='do not render; print the statistics of --out')
    parser.add_argument('--json', action='store_true',
                        help='also print the statistics as one JSON line')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train-ids', type=int, default=60)
    parser.add_argument('--num-test-ids', type=int, default=30)
    parser.add_argument('--num-train-frames', type=int, default=400)
    parser.add_argument('--num-test-frames', type=int, default=200)
    parser.add_argument('--num-cameras', type=int, default=6)
    parser.add_argument('--height', type=int, default=256,
                        help='frame height in pixels')
    parser.add_argument('--width', type=int, default=384,
                        help='frame width in pixels')
    parser.add_argument('--min-person-height', type=int, default=24)
    parser.add_argument('--max-person-height', type=int, default=208)
    parser.add_argument('--unlabelled-fraction', type=float, default=0.15)
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line.

    Args:
        argv: arguments without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status (0 on success; argparse exits with 2 on bad arguments).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.stats_only:
        statistics = synthps_statistics(args.out)
        print(f'SynthPS statistics of {args.out}')
    else:
        start = time.perf_counter()
        statistics = render_synthps(
            args.out, seed=args.seed, num_train_ids=args.num_train_ids,
            num_test_ids=args.num_test_ids,
            num_train_frames=args.num_train_frames,
            num_test_frames=args.num_test_frames, num_cameras=args.num_cameras,
            height=args.height, width=args.width,
            min_person_height=args.min_person_height,
            max_person_height=args.max_person_height,
            unlabelled_fraction=args.unlabelled_fraction,
            progress=not args.no_progress)
        print(f'SynthPS rendered into {args.out} in '
              f'{time.perf_counter() - start:.1f} s')
    print(format_statistics(statistics))
    if args.json:
        print(json.dumps(statistics, sort_keys=True))
    return 0
