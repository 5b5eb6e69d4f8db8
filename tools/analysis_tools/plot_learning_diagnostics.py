"""Does a run learn identities? Its learning diagnostics per labelled epoch.

    python tools/analysis_tools/plot_learning_diagnostics.py LOG [LOG ...] \
        --out diagnostics.png [--labels NAME ...]

Reads the ``pseudo labels {...}`` lines ``PseudoLabelHook`` writes into MMEngine's
text log and draws the nearest-neighbour identity precision of M_I, M_M and M
against the colour-histogram floor, the pairwise precision of clusters and
multi-labels, and the cluster count with the largest cluster's share
(docs/benchmarks.md reads these figures).
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

COLUMNS = (('nn_precision_combined', 'NN M'), ('nn_precision_instance', 'NN M_I'),
           ('nn_precision_exemplar', 'NN M_M'), ('nn_precision_colour', 'colour'),
           ('cluster_precision', 'clu P'), ('multilabel_precision', 'ML P'),
           ('clusters', 'clusters'), ('largest_cluster_share', 'largest'))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmssl.utils import parse_log_plot_args
    return parse_log_plot_args(
        'Plot the learning diagnostics per epoch from training logs',
        'learning_diagnostics.png', 'Learning diagnostics', argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    """Read the logs, print a table, draw; return the PNG path."""
    args = parse_args(argv)
    from mmssl.visualization import (plot_learning_diagnostics,
                                     read_runs_pseudo_label_stats, save_figure)
    runs = read_runs_pseudo_label_stats(args.logs, args.labels)
    for name, stats in runs.items():
        print(f'{name}: {len(stats)} labelled epochs')
        print('  epoch ' + ' '.join(f'{title:>8}' for _, title in COLUMNS))
        for s in stats:
            cells = []
            for key, _ in COLUMNS:
                value = s.get(key)
                cells.append(f'{value:8.3f}' if isinstance(value, float) else
                             f'{value!s:>8}' if value is not None else '       -')
            print(f'  {s.get("epoch"):>5} ' + ' '.join(cells))
    save_figure(plot_learning_diagnostics(runs, title=args.title), args.out)
    print(f'learning diagnostics written to {args.out}')
    return args.out


if __name__ == '__main__':
    main()
