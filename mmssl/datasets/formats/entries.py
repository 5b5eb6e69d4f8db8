"""The rule every annotation reader applies to the names it lists: each once.

Plain Python; no mmdet import.
"""
from typing import Dict, Hashable


def note_first_entry(first_entry: Dict[Hashable, int], key: Hashable, index: int,
                     listed_twice: str, unit: str = 'entries') -> None:
    """Record that ``key`` is listed first at ``index``; a second listing is an
    error naming both places.

    Args:
        first_entry: key -> index of its first listing, updated in place.
        key: what must be listed once (an image name, a frame stem, ...).
        index: where ``key`` is listed now.
        listed_twice: the start of the error message, e.g.
            ``'<file>: image <name> is listed twice'``.
        unit: what the indices count (``'entries'``, ``'records'``, ...).

    Raises:
        ValueError: ``key`` was listed before; the message is ``listed_twice``
            followed by ``(<unit> <first index> and <index>)``.
    """
    if key in first_entry:
        raise ValueError(f'{listed_twice} ({unit} {first_entry[key]} and {index})')
    first_entry[key] = index
