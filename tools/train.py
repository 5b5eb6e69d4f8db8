"""Train a model: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]``.

Also what ``mim train mmssl CONFIG`` runs, and what ``tools/dist_train.sh`` starts in
every process (``--launcher pytorch``; on CPU it uses gloo).
"""
import argparse
import os.path as osp
import sys

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmssl.utils import (add_launch_arguments, build_runner,  # noqa: E402
                         load_tool_config, parse_launch_args,
                         trust_checkpoints_on_resume)


def parse_args():
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Train an mmssl model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true',
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest checkpoint '
        'of the work dir when no path is given')
    add_launch_arguments(parser)
    return parse_launch_args(parser)


def main():
    """Build the runner from the config and train."""
    args = parse_args()
    cfg = load_tool_config(args.config, args.cfg_options, args.launcher,
                           args.work_dir)

    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if cfg.get('resume', False) or cfg.get('load_from'):
        trust_checkpoints_on_resume()

    build_runner(cfg).train()


if __name__ == '__main__':
    main()
