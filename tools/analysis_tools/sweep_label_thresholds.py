"""Choose pseudo-label thresholds on a labelled render: clusters and multi-labels of
the epoch-0 banks over a grid of ``t_s`` (Eq. 9) and DBSCAN ``eps``.

    python tools/analysis_tools/sweep_label_thresholds.py CONFIG [--checkpoint CKPT] \
        [--data-root data/synthps_seed1] [--render-seed 1] \
        [--t-s 0.6 0.7 0.8 0.9] [--eps 0.3 0.4 0.5 0.6 0.7]

Builds the config's runner on the training split of ``--data-root`` (a SynthPS
render of another seed by default, so that no threshold is chosen on the images the
main job trains and is measured on), fills the memory banks as ``MemoryBankHook``
does before training (population statistics, then one pass), and makes the epoch-0
pseudo labels with the config's ``PseudoLabelHook`` settings, each ``t_s`` and each
``eps`` in turn (the self-paced triple is ``eps - 0.02, eps, eps + 0.02``). For each
it prints the Eq. 9 threshold, the positives per box and the pairwise precision and
recall of the multi-labels, and the cluster count, the largest cluster's share and
the pairwise precision and recall of the clusters, then one JSON line. Without
``--checkpoint`` the model starts from its config's initialisation (for the SynthPS
configs, the packaged ImageNet stand-in), as training does. docs/benchmarks.md
records the sweep behind the SynthPS thresholds.
"""
import argparse
import json
import os.path as osp
import sys
import tempfile
from typing import Optional, Sequence

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmssl.utils import add_threads_argument
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='model state (default: the '
                        "config's initialisation)")
    parser.add_argument('--data-root', default='data/synthps_seed1/',
                        help='labelled training split to sweep on')
    parser.add_argument('--render-seed', type=int, default=1,
                        help='SynthPS render seed of --data-root (rendered on '
                        'first use); ignored for other datasets')
    parser.add_argument('--t-s', nargs='+', type=float,
                        default=[0.6, 0.7, 0.8, 0.9])
    parser.add_argument('--eps', nargs='+', type=float,
                        default=[0.3, 0.4, 0.5, 0.6, 0.7])
    add_threads_argument(parser)
    return parser.parse_args(argv)


def hook_cfg(cfg, hook_type: str) -> Optional[dict]:
    """A copy of the config's first hook of type ``hook_type``, or ``None``."""
    from mmssl.utils.config_entries import config_hooks  # noqa: PLC0415
    hooks = config_hooks(cfg, hook_type)
    return dict(hooks[0]) if hooks else None


def label_settings(cfg) -> dict:
    """The ``PseudoLabelHook`` entry of ``cfg.custom_hooks``: its ``label_cfg`` and
    ``feature_source``."""
    hook = hook_cfg(cfg, 'PseudoLabelHook')
    if hook is None:
        raise ValueError(f'{cfg.filename}: no PseudoLabelHook in custom_hooks')
    return dict(label_cfg=dict(hook.get('label_cfg', {})),
                feature_source=hook.get('feature_source', 'combined'))


def sweep(features, table: dict, label_cfg: dict, t_s_values: Sequence[float],
          eps_values: Sequence[float]) -> dict:
    """Epoch-0 multi-labels per ``t_s`` and clusters per ``eps`` of one bank.

    Args:
        features: ``(N, d)`` L2-normalised bank rows.
        table: the dataset's ``instance_table()`` (``person_id``, ``image_index``).
        label_cfg: ``generate_pseudo_labels`` settings; ``t_s`` and ``eps`` are
            replaced by the swept values.
        t_s_values: ``t_s`` of Eq. 9 to try.
        eps_values: DBSCAN ``eps`` to try (self-paced triple around each).

    Returns:
        ``dict(multilabels=[...], clusters=[...])``, one record per value.
    """
    import numpy as np

    from mmssl.labels import generate_pseudo_labels, pairwise_precision_recall
    from mmssl.labels.degenerate_clusters import largest_cluster
    person_ids, image_ids = table['person_id'], table['image_index']
    base = dict(label_cfg)
    out = dict(multilabels=[], clusters=[])
    for t_s in t_s_values:
        result = generate_pseudo_labels(features, image_ids, 0,
                                        **dict(base, t_s=t_s))
        scores = pairwise_precision_recall(result.multilabels, person_ids)
        out['multilabels'].append(dict(
            t_s=t_s, threshold=float(result.threshold),
            positives_per_box=float(result.multilabels.nnz / len(features)),
            precision=float(scores.precision), recall=float(scores.recall)))
    for eps in eps_values:
        result = generate_pseudo_labels(
            features, image_ids, 0, **dict(base, eps=(eps - 0.02, eps, eps + 0.02)))
        labels = result.cluster_labels
        scores = pairwise_precision_recall(labels, person_ids)
        out['clusters'].append(dict(
            eps=eps, clusters=int((np.bincount(labels) > 1).sum()),
            largest_share=float(largest_cluster(labels)[1]),
            precision=float(scores.precision), recall=float(scores.recall)))
    return out


def fill_banks(cfg, checkpoint: Optional[str]):
    """The runner of ``cfg`` with its memory banks filled as before training."""
    from mmengine.runner.checkpoint import load_state_dict

    from mmssl.apis.searcher import load_checkpoint_file
    from mmssl.engine.hooks import MemoryBankHook
    from mmssl.utils import build_runner
    runner = build_runner(cfg)
    if checkpoint:
        # the banks are refilled below: their stored rows (another size) are skipped
        state = load_checkpoint_file(checkpoint, trust_checkpoint=True)
        load_state_dict(runner.model, state.get('state_dict', state), strict=False,
                        logger='current')
    else:
        runner.model.init_weights()
    bank_cfg = hook_cfg(cfg, 'MemoryBankHook') or dict()
    bank_cfg.pop('type', None)
    MemoryBankHook(**dict(bank_cfg, refill=True)).before_train(runner)
    return runner


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Fill the banks, sweep, print the tables and the JSON line."""
    args = parse_args(argv)
    from mmengine.config import Config

    from mmssl.diagnostics import neighbour_identity_precision
    from mmssl.utils import apply_thread_policy
    cfg = Config.fromfile(args.config)
    settings = label_settings(cfg)
    apply_thread_policy(cfg, args.threads, verbose=True)
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = args.data_root
    if dataset_cfg.get('type') == 'SynthPSDataset':
        dataset_cfg.setdefault('render_cfg', {})['seed'] = args.render_seed
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.work_dir = tempfile.mkdtemp(prefix='sweep_label_thresholds_')
    cfg.default_hooks.pop('torch_threads', None)  # applied above
    runner = fill_banks(cfg, args.checkpoint)
    memory = runner.model.memory
    bank = (memory.combined() if settings['feature_source'] == 'combined' else
            memory.instance_feats)
    features = bank.detach().float().cpu().numpy()
    table = runner.train_dataloader.dataset.instance_table()
    if not (table['person_id'] >= 0).any():
        raise ValueError(f'{args.data_root}: no labelled boxes to measure on')
    nn_precision = neighbour_identity_precision(features, table['person_id'],
                                                table['image_index'])
    out = sweep(features, table, settings['label_cfg'], args.t_s, args.eps)
    out.update(config=args.config, data_root=args.data_root,
               boxes=int(len(features)), bank=settings['feature_source'],
               nn_precision=float(nn_precision))
    print(f'\n{len(features)} boxes of {args.data_root}, bank '
          f"{settings['feature_source']}, nearest-neighbour identity precision "
          f'{nn_precision:.3f}')
    print(f'{"t_s":>6}{"t (Eq. 9)":>11}{"pos/box":>9}{"ML P":>7}{"ML R":>7}')
    for row in out['multilabels']:
        print(f'{row["t_s"]:>6.2f}{row["threshold"]:>11.3f}'
              f'{row["positives_per_box"]:>9.1f}{row["precision"]:>7.3f}'
              f'{row["recall"]:>7.3f}')
    print(f'{"eps":>6}{"clusters":>10}{"largest":>9}{"clu P":>7}{"clu R":>7}')
    for row in out['clusters']:
        print(f'{row["eps"]:>6.2f}{row["clusters"]:>10d}'
              f'{row["largest_share"]:>9.3f}{row["precision"]:>7.3f}'
              f'{row["recall"]:>7.3f}')
    print(json.dumps(out))
    return out


if __name__ == '__main__':
    main()
