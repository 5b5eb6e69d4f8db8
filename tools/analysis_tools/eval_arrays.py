"""Evaluate saved detections and features, without a model or the images.

    python tools/analysis_tools/eval_arrays.py CONFIG ARRAYS [--data-root DIR] \
        [--cfg-options test_evaluator.det_score_thr=0.05 ...] [--out figures.json]

``CONFIG`` gives the test split (``test_dataloader.dataset``) and the metric options
(``test_evaluator``, a ``PersonSearchMetric``). ``ARRAYS`` holds the gallery
detections and features per image and the query features, in the dataset's order:
a ``.pkl`` / ``.pth`` dict (``gallery_dets`` or ``gallery_boxes`` + ``gallery_scores``,
``gallery_feats``, ``query_feats``; SeqNet's ``data/eval_cache/eval_cache.pth``
works as it is) or a flat ``.npz`` (docs/evaluation.md section 5). The figures are
those a test run of the config prints (the same metric code); the dataset is read
without opening any image where its annotations suffice.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, Optional, Sequence

from mmengine.config import Config, DictAction

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

PAPER_COLUMNS = (('mAP', 'mAP'), ('top-1', 'top1'), ('detection AP', 'det_ap'),
                 ('detection recall', 'det_recall'))
"""The paper's columns (Tab. 4: mAP, top-1; Sec. 4.1: detection AP, recall) and the
keys that hold them (docs/evaluation.md section 4)."""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Person-search and detection figures of saved arrays')
    parser.add_argument('config', help='mmssl config (test split and test_evaluator)')
    parser.add_argument('arrays', help='.pkl, .pth or .npz file of saved arrays')
    parser.add_argument('--data-root', help='override the test dataset data_root')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    parser.add_argument('--out', help='also write the figures to this JSON file')
    return parser.parse_args(argv)


def person_search_metric_cfg(evaluator) -> dict:
    """The ``PersonSearchMetric`` entry of a ``test_evaluator`` config."""
    from mmssl.utils.config_entries import evaluator_metrics  # noqa: PLC0415
    metrics = evaluator_metrics(evaluator, 'PersonSearchMetric')
    if metrics:
        return dict(metrics[0])
    raise ValueError('the config\'s test_evaluator has no PersonSearchMetric')


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """Evaluate, print the figures; return them."""
    args = parse_args(argv)
    from mmengine.registry import init_default_scope

    import mmssl  # noqa: F401 (registers the datasets and the metric)
    from mmssl.evaluation import evaluate_arrays, load_saved_arrays
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    dataset = dict(cfg.test_dataloader.dataset)
    if args.data_root is not None:
        dataset['data_root'] = args.data_root
    metric = person_search_metric_cfg(cfg.test_evaluator)
    figures = evaluate_arrays(dataset, metric=metric, **load_saved_arrays(args.arrays))
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f'{key:<{width}}  {value:.4f}' if isinstance(value, float)
              else f'{key:<{width}}  {value}')
    prefix = metric.get('prefix') or 'search'
    print('as in the papers\' tables: ' + '  '.join(
        f'{name} {100 * figures[f"{prefix}/{key}"]:.1f}%' for name, key in PAPER_COLUMNS
        if f'{prefix}/{key}' in figures))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(figures, f, indent=1)
        print(f'figures written to {args.out}')
    return figures


if __name__ == '__main__':
    main()
