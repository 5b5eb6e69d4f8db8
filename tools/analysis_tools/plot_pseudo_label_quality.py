"""Pairwise precision/recall of clusters and multi-labels per epoch (Fig. 4).

    python tools/analysis_tools/plot_pseudo_label_quality.py LOG [LOG ...] \
        --out fig4.png [--labels NAME ...]

Reads the ``pseudo labels {...}`` lines ``PseudoLabelHook`` writes into MMEngine's
text log (one per labelling epoch; precision and recall are there when the
training set has person ids, as SynthPS, PRW and CUHK-SYSU do).
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmssl.utils import parse_log_plot_args
    return parse_log_plot_args(
        'Plot pseudo-label precision/recall per epoch from training logs',
        'pseudo_label_quality.png', 'Pseudo-label quality', argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    """Read the logs, print the figures, draw; return the PNG path."""
    args = parse_args(argv)
    from mmssl.visualization import (plot_pseudo_label_quality,
                                     read_runs_pseudo_label_stats, save_figure)
    runs = read_runs_pseudo_label_stats(args.logs, args.labels)
    for name, stats in runs.items():
        print(f'{name}: {len(stats)} labelling epochs')
        for s in stats:
            print('  epoch {:>3}  cluster P {}  R {}  multilabel P {}  R {}'.format(
                s.get('epoch'), *[
                    f'{s[k]:.3f}' if isinstance(s.get(k), (int, float)) else '  -  '
                    for k in ('cluster_precision', 'cluster_recall',
                              'multilabel_precision', 'multilabel_recall')
                ]))
    save_figure(plot_pseudo_label_quality(runs, title=args.title), args.out)
    print(f'pseudo-label quality picture written to {args.out}')
    return args.out


if __name__ == '__main__':
    main()
