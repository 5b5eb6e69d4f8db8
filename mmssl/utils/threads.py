"""The trainer's thread policy, for every tool that runs the model.

Training sets torch's intra-op thread count with ``TorchThreadsHook``
(``default_hooks`` or ``custom_hooks`` of the config); a tool that runs the model
outside a Runner (search, indexing, t-SNE) applies the same count, or the one given
with ``--threads``. A config without the hook leaves torch's default. The count
also goes to faiss's OpenMP pool, which the gallery search uses: on a small shared
CPU, threads that wait for each other slow both down (``TorchThreadsHook``).
"""
import argparse
from typing import Optional

from .config_entries import config_hooks

HOOK_TYPE = 'TorchThreadsHook'


def config_num_threads(cfg) -> Optional[int]:
    """The ``num_threads`` of the config's ``TorchThreadsHook``, None without one.

    Args:
        cfg: an :class:`mmengine.Config` (or dict) of a training config.
    """
    hooks = config_hooks(cfg, HOOK_TYPE)
    return int(hooks[0].get('num_threads', 1)) if hooks else None


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--threads N`` to a tool's command line."""
    parser.add_argument(
        '--threads', type=int, default=None,
        help="torch (and faiss) intra-op threads; default: the config's "
        'TorchThreadsHook setting, as in training')


def resolve_num_threads(cfg, threads: Optional[int] = None) -> Optional[int]:
    """``threads`` when given, else the config's hook setting (None: neither).

    Raises:
        ValueError: ``threads`` < 1.
    """
    if threads is not None:
        if threads < 1:
            raise ValueError(f'--threads must be >= 1, got {threads}')
        return int(threads)
    return config_num_threads(cfg)


def apply_thread_policy(cfg, threads: Optional[int] = None,
                        verbose: bool = False) -> Optional[int]:
    """Set torch's (and faiss's) intra-op threads as training does.

    Args:
        cfg: the model's config (``model.cfg``).
        threads: an explicit count (``--threads``); None takes the config's
            ``TorchThreadsHook`` setting.
        verbose: print the count applied (what the tools do).

    Returns:
        The count applied, or None when neither is set (torch's default stays).
    """
    import torch
    count = resolve_num_threads(cfg, threads)
    if verbose:
        print(f'torch intra-op threads: {count or "torch default"}')
    if count is None:
        return None
    torch.set_num_threads(count)
    try:
        import faiss
    except ImportError:  # faiss is a dependency; guard for partial installs
        return count
    faiss.omp_set_num_threads(count)
    return count


def set_runner_threads(cfg, threads: Optional[int]) -> None:
    """Make a Runner apply ``threads`` (``tools/test.py --threads``).

    Replaces the thread count of each ``TorchThreadsHook`` of the config (or adds
    the hook to ``default_hooks``); None leaves the config as it is.
    """
    if threads is None:
        return
    resolve_num_threads(cfg, threads)  # validates
    hooks = config_hooks(cfg, HOOK_TYPE)
    for hook in hooks:
        hook['num_threads'] = int(threads)
    if hooks:
        return
    default_hooks = cfg.get('default_hooks') or {}
    default_hooks['torch_threads'] = dict(type=HOOK_TYPE, num_threads=int(threads))
    cfg.default_hooks = default_hooks
