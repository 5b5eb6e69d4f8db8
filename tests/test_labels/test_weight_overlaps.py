import numpy as np
import pytest
import scipy.sparse as sp

import mmssl.labels.chunk_threads as chunk_threads
import mmssl.labels.weight_overlaps as wo
from mmssl.labels.weight_overlaps import min_overlaps, pair_overlaps, split_rows


@pytest.fixture(params=['one chunk', 'small chunks', 'small chunks, 3 threads'])
def chunks(request, monkeypatch):
    """Run the product and the exact evaluation in one chunk, or in many (column
    slices, product chunks, pair chunks, buffer blocks), on one thread or three."""
    workers = 3 if request.param.endswith('3 threads') else 1
    monkeypatch.setattr(chunk_threads, 'chunk_workers', lambda: workers)
    monkeypatch.setattr(wo, 'chunk_workers', lambda: workers)
    if request.param.startswith('small chunks'):
        monkeypatch.setattr(wo, 'SLICE_RATIO', 0)
        monkeypatch.setattr(wo, 'PRODUCT_CHUNK', 500)
        monkeypatch.setattr(wo, 'PAIR_BUDGET', 300)
        monkeypatch.setattr(wo, 'OVERLAP_BUFFER', 7 * 300)
        monkeypatch.setattr(wo, 'OVERLAP_BLOCK_ROWS', 1)
    else:
        monkeypatch.setattr(wo, 'SLICE_RATIO', 10 ** 9)
        monkeypatch.setattr(wo, 'PRODUCT_CHUNK', 10 ** 9)
        monkeypatch.setattr(wo, 'PAIR_BUDGET', 10 ** 9)


@pytest.mark.parametrize('min_overlap', [0.0, 0.1, 0.3])
def test_min_overlaps_equals_brute_force_with_hubs(min_overlap, chunks):
    rng = np.random.default_rng(3)
    num = 300
    # rows of 10-40 columns; columns 0-4 are hubs that appear in most rows
    dense = np.zeros((num, num))
    for row in range(num):
        cols = np.r_[rng.choice(5, 3, replace=False),
                     rng.choice(num, rng.integers(10, 40), replace=False)]
        dense[row, cols] = rng.random(len(cols)) + 0.05
    dense /= dense.sum(axis=1, keepdims=True)
    weights = sp.csr_matrix(dense)
    overlap = np.minimum(dense[:, None, :], dense[None, :, :]).sum(-1)
    expected = {(i, j) for i, j in zip(*np.nonzero(np.triu(overlap > min_overlap,
                                                              1)))}
    rows, cols, values = min_overlaps(weights, min_overlap)
    assert set(zip(rows.tolist(), cols.tolist())) == expected
    np.testing.assert_allclose(values, overlap[rows, cols], atol=1e-12)
    head, tail = split_rows(weights, 0.4 * min_overlap)
    assert (tail <= 0.4 * min_overlap + 1e-12).all()
    np.testing.assert_allclose(head.sum(axis=1).A.ravel() + tail, 1.0)
    if min_overlap > 0:  # the tails hold each row's lightest entries
        in_tail = (weights - head).tocoo()
        heaviest_tail = np.zeros(num)
        np.maximum.at(heaviest_tail, in_tail.row, in_tail.data)
        lightest_head = np.full(num, np.inf)
        coo = head.tocoo()
        np.minimum.at(lightest_head, coo.row, coo.data)
        assert (heaviest_tail <= lightest_head).all()
        assert (tail > 0).sum() > num // 2


def test_pair_overlaps_match_dense_mins_with_an_empty_row(chunks):
    rng = np.random.default_rng(4)
    keep = np.ones(40)
    keep[3] = 0  # an empty row
    weights = (sp.diags(keep) @ sp.random(40, 30, density=0.2, format='csr',
                                          random_state=1)).tocsr()
    weights.eliminate_zeros()
    rows = np.sort(rng.integers(0, 40, 200))
    cols = rng.integers(0, 40, 200)
    dense = weights.toarray()
    expected = np.minimum(dense[rows], dense[cols]).sum(1)
    found = pair_overlaps(weights, rows, cols)
    np.testing.assert_allclose(found, expected, atol=1e-12)
    assert (found[(cols == 3) | (rows == 3)] == 0).all()
    assert (found > 0).sum() > 100
