"""The memory banks ``M_I``/``M_M`` of SSL (:class:`PersonMemory`, Eq. 5-6) and
the row updates and gathers behind them."""
from .distributed import all_gather_counts, all_gather_rows
from .person_memory import PersonMemory
from .row_updates import assign_rows, momentum_update_rows, occurrence_rank

__all__ = [
    'PersonMemory', 'all_gather_counts', 'all_gather_rows', 'assign_rows',
    'momentum_update_rows', 'occurrence_rank'
]
