"""Model state of SSL's dynamic multi-label learning: the memory banks ``M_I``/``M_M``
(:class:`PersonMemory`) and the current pseudo labels (:class:`PseudoLabelStore`)."""
from .csr import check_csr, gather_csr_rows, select_csr_rows, split_csr_rows
from .distributed import all_gather_counts, all_gather_rows
from .person_memory import PersonMemory
from .pseudo_label_store import PseudoLabelStore
from .row_updates import assign_rows, momentum_update_rows, occurrence_rank

__all__ = [
    'PersonMemory', 'PseudoLabelStore', 'check_csr', 'gather_csr_rows',
    'select_csr_rows', 'split_csr_rows', 'all_gather_counts', 'all_gather_rows',
    'assign_rows', 'momentum_update_rows', 'occurrence_rank'
]
