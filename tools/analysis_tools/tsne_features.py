"""t-SNE of the re-id features of ground-truth boxes (the paper's Fig. 7).

    python tools/analysis_tools/tsne_features.py CONFIG CHECKPOINT --out tsne.png \
        [--split train|test] [--max-ids 20] [--data-root ROOT]

Embeds every labelled box of the ``--max-ids`` identities with the most boxes of
the config's train (or test gallery) dataset, projects the features with t-SNE
and draws them coloured by identity, with a circle / cross / square for boxes
smaller than 3,600 px², between 3,600 and 45,300 px², and larger. The model runs
with the training thread policy (the config's ``TorchThreadsHook``, or
``--threads``).
"""
import argparse
import copy
import os.path as osp
import sys
from typing import Optional, Sequence

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmssl.utils import add_model_run_arguments, model_tool_parser
    parser = model_tool_parser(
        't-SNE of ground-truth box embeddings by identity and scale')
    parser.add_argument('--out', default='tsne.png', help='output PNG')
    parser.add_argument('--split', choices=['train', 'test'], default='train',
                        help="the config's train dataset or test gallery")
    parser.add_argument('--max-ids', type=int, default=20,
                        help='identities drawn (those with the most boxes)')
    parser.add_argument('--data-root', help="override the dataset's data_root")
    parser.add_argument('--perplexity', type=float, default=30.0)
    parser.add_argument('--seed', type=int, default=0)
    add_model_run_arguments(parser)
    args = parser.parse_args(argv)
    if args.max_ids < 1:
        parser.error('--max-ids must be >= 1')
    return args


def build_split_dataset(model, split: str, data_root: Optional[str]):
    """The train or test dataset of the model's config, without a pipeline."""
    from mmdet.registry import DATASETS
    key = 'train_dataloader' if split == 'train' else 'test_dataloader'
    dataset_cfg = copy.deepcopy(model.cfg[key]['dataset'])
    dataset_cfg['pipeline'] = []
    if data_root is not None:
        dataset_cfg['data_root'] = data_root
    return DATASETS.build(dataset_cfg)


def main(argv: Optional[Sequence[str]] = None) -> str:
    """Embed, project, draw; return the PNG path."""
    args = parse_args(argv)
    from mmssl.apis import embed_dataset_boxes, init_searcher
    from mmssl.utils import apply_thread_policy
    from mmssl.visualization import plot_identity_tsne, save_figure, tsne_project

    model = init_searcher(args.config, args.checkpoint, device=args.device,
                          cfg_options=args.cfg_options)
    apply_thread_policy(model.cfg, args.threads, verbose=True)
    dataset = build_split_dataset(model, args.split, args.data_root)
    boxes = embed_dataset_boxes(model, dataset, max_ids=args.max_ids, progress=True)
    print(f'\nt-SNE of {len(boxes["features"])} boxes of '
          f'{len(set(boxes["person_ids"].tolist()))} identities')
    points = tsne_project(boxes['features'], perplexity=args.perplexity,
                          seed=args.seed)
    figure = plot_identity_tsne(
        points, boxes['person_ids'], boxes['bboxes'],
        title=(f't-SNE, {args.split} split: {len(points)} boxes, '
               f'{len(set(boxes["person_ids"].tolist()))} identities'))
    save_figure(figure, args.out)
    print(f't-SNE picture written to {args.out}')
    return args.out


if __name__ == '__main__':
    main()
