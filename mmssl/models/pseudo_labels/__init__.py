"""The pseudo labels of the current epoch, kept in the model: cluster labels and the
dynamic multi-labels of Eq. 8-10 (:class:`PseudoLabelStore`), whose positive sets
are a CSR matrix over the memory rows (the :mod:`.csr` helpers)."""
from .csr import check_csr, gather_csr_rows, select_csr_rows, split_csr_rows
from .pseudo_label_store import PseudoLabelStore

__all__ = [
    'PseudoLabelStore', 'check_csr', 'gather_csr_rows', 'select_csr_rows',
    'split_csr_rows'
]
