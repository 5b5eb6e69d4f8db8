"""Command-line arguments that several tools share.

* the tools that run a model (search, indexing, t-SNE): ``config`` and
  ``checkpoint``, ``--device``, ``--threads``, ``--cfg-options``, and a query given
  as an image and a box;
* the tools that plot several runs' logs or metrics
  (``tools/analysis_tools/plot_*.py``): input files, a name per file, the picture.
"""
import argparse
from typing import Optional, Sequence

from mmengine.config import DictAction

from .threads import add_threads_argument


def model_tool_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the positional ``config`` and ``checkpoint`` of a model."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    return parser


def add_model_run_arguments(parser: argparse.ArgumentParser) -> None:
    """``--device``, ``--threads`` (:func:`add_threads_argument`) and
    ``--cfg-options``, for a tool that runs the model."""
    parser.add_argument('--device', default='cpu', help='cpu, cuda:0, ...')
    add_threads_argument(parser)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')


def add_query_box_arguments(parser: argparse.ArgumentParser) -> None:
    """``--query-image`` and ``--query-box``: a query person given by a box."""
    parser.add_argument('--query-image', help='image holding the query person')
    parser.add_argument('--query-box', type=float, nargs=4,
                        metavar=('X1', 'Y1', 'X2', 'Y2'),
                        help='query box in original image pixels')


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


def parse_log_plot_args(description: str, out: str, title: str,
                        argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The command line of a tool that plots training logs: ``logs``,
    ``--labels``, ``--out``, ``--title`` (:func:`run_plot_parser`)."""
    parser = run_plot_parser(description, 'logs', 'MMEngine text logs', out, title)
    return parse_run_plot_args(parser, 'logs', argv)
