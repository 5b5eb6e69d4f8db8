import pytest
import torch

from mmssl.labels.grouped_top_k import group_size, grouped_top_k


def _check_is_a_top_k(scores, values, indices, k):
    assert values.shape == indices.shape == (scores.shape[0], k)
    # the values are those of the indices, no index twice in a row
    assert torch.equal(torch.gather(scores, 1, indices), values)
    assert all(len(set(row.tolist())) == k for row in indices)
    # the same multiset of values as torch.topk (ties may pick other indices)
    expected = torch.topk(scores, k, dim=1).values
    assert torch.equal(values.sort(dim=1, descending=True).values, expected)
    # everything left out is at most the smallest value returned
    left_out = scores.clone()
    left_out.scatter_(1, indices, float('-inf'))
    assert (left_out.max(dim=1).values <= values.min(dim=1).values).all()


@pytest.mark.parametrize('columns', [5000, 5003, 16384, 20011])
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_grouped_top_k_is_a_top_k(columns, dtype):
    generator = torch.Generator().manual_seed(columns)
    scores = torch.randn(37, columns, generator=generator).to(dtype)
    # a row whose large values all fall in one group, and a row of ties
    group = group_size(columns)
    scores[0, ::columns // group] = 10.0
    scores[1] = 0.5
    for k in (1, 46, 92):
        values, indices = grouped_top_k(scores, k)
        _check_is_a_top_k(scores, values, indices, k)


def test_few_columns_fall_back_to_torch_topk():
    scores = torch.randn(4, 50)
    values, indices = grouped_top_k(scores, 46)  # 6 groups < 2 k
    _check_is_a_top_k(scores, values, indices, 46)
    values, indices = grouped_top_k(scores, 50)
    _check_is_a_top_k(scores, values, indices, 50)


def test_group_size_grows_with_the_row():
    assert group_size(5000) == 8 and group_size(55272) == 16
