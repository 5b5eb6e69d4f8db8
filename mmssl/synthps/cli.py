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

from .render import render_parameters, render_synthps
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
    defaults = render_parameters()
    helps = dict(height='frame height in pixels', width='frame width in pixels',
                 queries_per_identity='most queries of one test identity')
    for name, value in defaults.items():
        parser.add_argument('--' + name.replace('_', '-'), type=type(value),
                            default=value, help=helps.get(name, '') +
                            ' (default: %(default)s)')
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
        parameters = {name: getattr(args, name) for name in render_parameters()}
        statistics = render_synthps(args.out, progress=not args.no_progress,
                                    **parameters)
        print(f'SynthPS rendered into {args.out} in '
              f'{time.perf_counter() - start:.1f} s')
    print(format_statistics(statistics))
    if args.json:
        print(json.dumps(statistics, sort_keys=True))
    return 0
