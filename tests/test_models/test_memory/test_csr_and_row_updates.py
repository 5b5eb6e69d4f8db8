"""The CSR row helpers and the ordered row updates behind the memory."""
import pytest
import torch
import torch.nn.functional as F

from mmssl.models.memory import (assign_rows, check_csr, gather_csr_rows,
                                 momentum_update_rows, occurrence_rank,
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


def test_occurrence_rank():
    assert occurrence_rank(torch.tensor([5, 2, 5, 5, 2, 7])).tolist() == [
        0, 0, 1, 2, 1, 0]
    assert occurrence_rank(torch.zeros(0, dtype=torch.long)).numel() == 0


@pytest.mark.parametrize('rows', [[0, 1, 2], [4, 4, 1, 4, 1], [3]])
def test_ordered_updates_equal_loops(rows):
    gen = torch.Generator().manual_seed(len(rows))
    bank = F.normalize(torch.randn(6, 3, generator=gen), dim=1)
    feats = torch.randn(len(rows), 3, generator=gen)
    rows = torch.tensor(rows)

    expected = bank.clone()
    for r, f in zip(rows.tolist(), feats):
        expected[r] = F.normalize(0.3 * f + 0.7 * expected[r], dim=0)
    got = bank.clone()
    momentum_update_rows(got, rows, feats, 0.3)
    torch.testing.assert_close(got, expected)

    expected = bank.clone()
    for r, f in zip(rows.tolist(), feats):
        expected[r] = F.normalize(f, dim=0)
    got = bank.clone()
    assign_rows(got, rows, feats)
    torch.testing.assert_close(got, expected)
