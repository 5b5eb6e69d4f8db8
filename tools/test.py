"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]``.

Runs the config's test loop: the gallery pass (detect and embed every gallery
image) and the query pass (embed each query's box), and prints what the test
evaluator reports (person-search mAP/top-k and detection AP/recall).
The model runs with the config's ``TorchThreadsHook`` thread count, as in
training, or with ``--threads N``. ``--show-dir DIR [--show-num N]`` also draws the
search results of N queries (``mmssl.visualization.SearchVisualizationHook``).
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmssl.utils import (add_launch_arguments,  # noqa: E402
                         add_threads_argument, build_runner, load_tool_config,
                         parse_launch_args, set_runner_threads,
                         trust_checkpoints_on_resume)


def parse_args():
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Test an mmssl model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument(
        '--show-dir',
        help='write search pictures (query and top-k gallery matches, green '
        'correct, red wrong) of a sample of queries into this folder')
    parser.add_argument('--show-num', type=int, default=10,
                        help='number of queries pictured with --show-dir')
    add_threads_argument(parser)
    add_launch_arguments(parser)
    return parse_launch_args(parser)


def add_search_pictures(cfg: Config, show_dir: str, show_num: int) -> None:
    """Add the hook that draws search pictures of ``show_num`` queries."""
    import mmssl.visualization  # noqa: F401 (registers SearchVisualizationHook)
    imports = cfg.get('custom_imports') or dict(imports=[])
    if 'mmssl.visualization' not in imports['imports']:  # for the dumped config
        imports['imports'] = list(imports['imports']) + ['mmssl.visualization']
    cfg.custom_imports = imports
    cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [
        dict(type='SearchVisualizationHook', out_dir=show_dir,
             num_queries=show_num)
    ]


def main():
    """Build the runner from the config and run its test loop."""
    args = parse_args()
    cfg = load_tool_config(args.config, args.cfg_options, args.launcher,
                           args.work_dir)
    cfg.load_from = args.checkpoint
    set_runner_threads(cfg, args.threads)  # else the config's TorchThreadsHook
    trust_checkpoints_on_resume()  # MMEngine checkpoints hold more than weights
    if args.show_dir is not None:
        add_search_pictures(cfg, args.show_dir, args.show_num)

    build_runner(cfg).test()


if __name__ == '__main__':
    main()
