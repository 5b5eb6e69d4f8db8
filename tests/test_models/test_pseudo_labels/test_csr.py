"""The CSR row helpers of the multi-label positive sets."""
import pytest
import torch

from mmssl.models.pseudo_labels import (check_csr, gather_csr_rows,
                                        select_csr_rows, split_csr_rows)

INDPTR = torch.tensor([0, 2, 2, 5, 6])
INDICES = torch.tensor([1, 3, 0, 2, 3, 3])


def test_gather_csr_rows():
    segment, columns, lengths = gather_csr_rows(INDPTR, INDICES,
                                                torch.tensor([2, 1, 0, 2]))
    assert lengths.tolist() == [3, 0, 2, 3]
    assert columns.tolist() == [0, 2, 3, 1, 3, 0, 2, 3]
    assert segment.tolist() == [0, 0, 0, 2, 2, 3, 3, 3]
    empty = gather_csr_rows(INDPTR, INDICES, torch.zeros(0, dtype=torch.long))
    assert all(t.numel() == 0 for t in empty)


def test_select_and_split():
    indptr, indices = select_csr_rows(INDPTR, INDICES, torch.tensor([3, 0]))
    assert indptr.tolist() == [0, 1, 3] and indices.tolist() == [3, 1, 3]
    assert [s.tolist() for s in split_csr_rows(INDPTR, INDICES,
                                               torch.tensor([1, 3]))] == [[], [3]]


def test_check_csr():
    check_csr(INDPTR, INDICES, 4, 4)
    with pytest.raises(ValueError, match='row 0 has column 3 out of range'):
        check_csr(INDPTR, INDICES, 4, 3)
    with pytest.raises(ValueError, match='integer'):
        check_csr(INDPTR.float(), INDICES, 4, 4)
    with pytest.raises(ValueError, match=r'indptr\[0\]'):
        check_csr(INDPTR + 1, INDICES, 4, 4)
