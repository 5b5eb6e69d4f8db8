"""The ordered row updates behind the memory."""
import pytest
import torch
import torch.nn.functional as F

from mmssl.models.memory import (assign_rows, momentum_update_rows,
                                 occurrence_rank)


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
