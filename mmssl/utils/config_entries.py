"""Entries of an MMEngine config found by their registered type: hooks, metrics.

A config names a component's type as a string (``'TorchThreadsHook'``, or with a
scope, ``'mmdet.TorchThreadsHook'``) or as the class itself (Python-style configs
that import it); :func:`entry_type_name` reads all three the same way, so that every
tool and test finds the same entries.
"""
from typing import Any, List, Optional


def entry_type_name(entry: Any) -> Optional[str]:
    """The registered name of a config entry's ``type``, scope removed.

    Returns:
        ``'TorchThreadsHook'`` for ``type='TorchThreadsHook'``,
        ``type='mmdet.TorchThreadsHook'`` or ``type=TorchThreadsHook`` (the
        class); None when ``entry`` is not a dict with a ``type``.
    """
    if not isinstance(entry, dict) or entry.get('type') is None:
        return None
    kind = entry['type']
    if isinstance(kind, type):
        return kind.__name__
    return str(kind).split('.')[-1]


def entries_of_type(entries: Any, type_name: str) -> List[dict]:
    """The entries (a list of them, or one) whose type is ``type_name``, in order.

    The dicts are the config's own, not copies: changing one changes the config.
    """
    if entries is None:
        return []
    if isinstance(entries, dict):
        entries = [entries]
    return [entry for entry in entries if entry_type_name(entry) == type_name]


def config_hooks(cfg, type_name: str) -> List[dict]:
    """Hooks of type ``type_name`` in ``cfg.default_hooks`` then ``cfg.custom_hooks``.

    Args:
        cfg: an :class:`mmengine.Config` (or dict) of a training config.
        type_name: a hook's registered name, e.g. ``'PseudoLabelHook'``.
    """
    default_hooks = cfg.get('default_hooks') or {}
    return entries_of_type(
        list(default_hooks.values()) + list(cfg.get('custom_hooks') or []),
        type_name)


def evaluator_metrics(evaluator: Any, type_name: str) -> List[dict]:
    """Metrics of type ``type_name`` in an evaluator config: one metric, a list of
    them, or an ``Evaluator`` dict with ``metrics``."""
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    return entries_of_type(evaluator, type_name)
