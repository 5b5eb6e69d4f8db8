"""Serve the search page of a gallery index on this machine (needs ``mmssl[demo]``).

    python tools/serve_gallery.py INDEX_DIR [--port 8765] [--config C --checkpoint K]

Open http://127.0.0.1:8765/ : choose a frame of the gallery or upload an image,
drag the query box, and see the ranked matches with their frames and the persons
enlarged (``docs/gallery.md``). The page has no authentication: it listens on the
loopback address unless ``--host`` says otherwise.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

# run from a checkout: use its mmssl rather than an installed copy
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

LOOPBACK = ('127.0.0.1', '::1', 'localhost')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmengine.config import DictAction

    from mmssl.utils import add_threads_argument
    parser = argparse.ArgumentParser(description='Serve the gallery search page')
    parser.add_argument('index', help='index folder (tools/index_gallery.py --out)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default: loopback only)')
    parser.add_argument('--port', type=int, default=8765)
    parser.add_argument('--config', help="model config (default: the index's)")
    parser.add_argument('--checkpoint', help="checkpoint (default: the index's)")
    parser.add_argument('--device', default='cpu', help='cpu, cuda:0, ...')
    add_threads_argument(parser)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def build_app(args: argparse.Namespace):
    """The index with its searcher, the thread policy applied, and the app."""
    try:
        from mmssl.demo import create_app
    except ImportError as err:
        raise SystemExit(f'the web page needs Flask: pip install "mmssl[demo]" '
                         f'({err})') from err
    from mmssl.apis import GalleryIndex
    from mmssl.utils import apply_thread_policy
    index = GalleryIndex.load_with_searcher(args.index, args.config, args.checkpoint,
                                            args.device, args.cfg_options)
    apply_thread_policy(index.model.cfg, args.threads, verbose=True)
    return create_app(index)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Serve until interrupted."""
    args = parse_args(argv)
    app = build_app(args)
    if args.host not in LOOPBACK:
        print(f'warning: listening on {args.host}, reachable from other machines; '
              'the page has no authentication')
    from werkzeug.serving import run_simple
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == '__main__':
    main()
