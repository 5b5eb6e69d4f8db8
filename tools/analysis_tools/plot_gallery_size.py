"""Search mAP against gallery size from CUHK-SYSU evaluations (the paper's Fig. 6).

    python tools/analysis_tools/plot_gallery_size.py RESULTS.json [RESULTS.json ...] \
        --out fig6.png [--labels NAME ...] [--metric mAP] [--default-size 100]

``RESULTS.json`` is what MMEngine writes per evaluation: the JSON object of a test
run (``<work_dir>/<timestamp>/<timestamp>.json``) or the JSON-lines scalars of
validation (``vis_data/scalars.json``; the last evaluation line is used). It needs
the ``search/gallery_<N>/mAP`` keys of a CUHK-SYSU dataset loaded with several
``gallery_sizes``; the un-suffixed default protocol counts as ``--default-size``.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmssl.utils import parse_run_plot_args, run_plot_parser
    parser = run_plot_parser(
        'Plot search mAP (or top-k) against CUHK-SYSU gallery size', 'results',
        'MMEngine metric JSON files', 'gallery_size.png',
        'CUHK-SYSU: search vs gallery size')
    parser.add_argument('--metric', default='mAP', help='mAP, top1, ...')
    parser.add_argument('--prefix', default='search', help='metric key prefix')
    parser.add_argument('--default-size', type=int, default=100,
                        help='gallery size of the un-suffixed default protocol')
    parser.add_argument('--dashed', nargs='*', default=[],
                        help='labels drawn dashed (e.g. weakly supervised runs)')
    return parse_run_plot_args(parser, 'results', argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    """Read the metric files, print the curves, draw; return the PNG path."""
    args = parse_args(argv)
    from mmssl.visualization import (gallery_size_curve, plot_gallery_size,
                                     read_metric_records, run_names, save_figure)
    names = run_names(args.results, args.labels)
    curves = {}
    for name, path in zip(names, args.results):
        curve = {}
        for record in reversed(read_metric_records(path)):  # the last evaluation
            curve = gallery_size_curve(record, args.metric, args.prefix,
                                       args.default_size)
            if curve:
                break
        if not curve:
            raise ValueError(f'{path}: no {args.prefix}/gallery_<N>/{args.metric} '
                             'figures (evaluate CUHK-SYSU with several '
                             'gallery_sizes)')
        curves[name] = curve
        print(f'{name}: ' + '  '.join(f'{size}: {value:.4f}'
                                      for size, value in curve.items()))
    styles = ['--' if name in args.dashed else '-' for name in curves]
    figure = plot_gallery_size(curves, metric=args.metric, title=args.title,
                               styles=styles)
    save_figure(figure, args.out)
    print(f'gallery-size picture written to {args.out}')
    return args.out


if __name__ == '__main__':
    main()
