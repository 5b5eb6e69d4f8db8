"""The command line shared by the tools that plot several runs' logs or metrics
(``tools/analysis_tools/plot_*.py``): input files, a name per file, the picture."""
import argparse
from typing import Optional, Sequence


def run_plot_parser(description: str, inputs: str, inputs_help: str, out: str,
                    title: str) -> argparse.ArgumentParser:
    """A parser with the positional ``inputs`` (one or more files), ``--labels``
    (a name per file), ``--out`` (the PNG) and ``--title``.

    Args:
        description: what the tool does.
        inputs: the name of the positional argument (``'logs'``, ``'results'``).
        inputs_help: its help text.
        out: the default PNG path.
        title: the default figure title.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(inputs, nargs='+', help=inputs_help)
    parser.add_argument('--labels', nargs='+',
                        help='a name per file (default: the file names)')
    parser.add_argument('--out', default=out, help='output PNG')
    parser.add_argument('--title', default=title)
    return parser


def parse_run_plot_args(parser: argparse.ArgumentParser, inputs: str,
                        argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse ``argv``; a parser error unless ``--labels`` names every input."""
    args = parser.parse_args(argv)
    files = getattr(args, inputs)
    if args.labels is not None and len(args.labels) != len(files):
        parser.error(f'{len(args.labels)} --labels for {len(files)} {inputs}')
    return args
