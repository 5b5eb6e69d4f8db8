import numpy as np
import pytest
import scipy.sparse as sp

import mmssl.labels.sparse_product as sparse_product
from mmssl.labels.sparse_product import csr_product, product_row_bounds


def _random_csr(rows, cols, density, dtype, seed, empty_rows=()):
    matrix = sp.random(rows, cols, density, format='csr', dtype=dtype,
                       random_state=seed)
    matrix = matrix.tolil()
    for row in empty_rows:
        matrix[row, :] = 0
    return matrix.tocsr()


def _assert_same(actual, expected):
    assert actual.format == 'csr'
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual.indptr, expected.indptr)
    np.testing.assert_array_equal(actual.indices, expected.indices)
    np.testing.assert_array_equal(actual.data, expected.data)  # bit for bit


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('density', [0.01, 0.08, 0.5])
@pytest.mark.parametrize('chunking', ['one chunk', 'small chunks, 3 threads'])
def test_csr_product_is_scipys_product(dtype, density, chunking, monkeypatch):
    workers = 1
    if chunking != 'one chunk':
        monkeypatch.setattr(sparse_product, 'CHUNK_ENTRIES', 40)
        workers = 3
    left = _random_csr(120, 90, density, dtype, 1, empty_rows=(0, 7, 119))
    right = _random_csr(90, 150, density, dtype, 2, empty_rows=(3,))
    _assert_same(csr_product(left, right, workers=workers),
                 (left @ right).tocsr())


def test_csr_product_of_mixed_precision_upcasts_as_scipy():
    left = _random_csr(40, 30, 0.2, np.float32, 3)
    right = _random_csr(30, 20, 0.2, np.float64, 4)
    _assert_same(csr_product(left, right), (left @ right).tocsr())


def test_csr_product_drops_exact_cancellations_like_scipy():
    left = sp.csr_matrix(np.array([[1.0, 1.0], [0.0, 2.0]]))
    right = sp.csr_matrix(np.array([[1.0, -1.0], [-1.0, 1.0]]))
    product = csr_product(left, right)
    _assert_same(product, (left @ right).tocsr())
    assert np.diff(product.indptr).tolist() == [0, 2]


def test_csr_product_without_any_shared_index_is_empty():
    left = sp.csr_matrix(np.array([[1.0, 0.0], [2.0, 0.0]]))
    right = sp.csr_matrix(np.array([[0.0, 0.0], [0.0, 3.0]]))
    product = csr_product(left, right)
    assert product.shape == (2, 2) and product.nnz == 0


def test_row_bounds_hold_and_are_capped():
    left = _random_csr(60, 50, 0.3, np.float64, 5)
    right = _random_csr(50, 40, 0.3, np.float64, 6)
    bounds = product_row_bounds(left, right)
    actual = np.diff((left @ right).tocsr().indptr)
    assert (bounds >= actual).all()
    assert (bounds <= 40).all()
    assert (bounds < actual).sum() == 0 and (bounds > actual).any()


def test_without_scipys_kernel_falls_back_to_the_operator(monkeypatch):
    monkeypatch.setattr(sparse_product, '_csr_matmat', None)
    left = _random_csr(30, 20, 0.2, np.float64, 7)
    right = _random_csr(20, 25, 0.2, np.float64, 8)
    _assert_same(csr_product(left, right), (left @ right).tocsr())


def test_bad_input_is_named():
    dense = np.ones((2, 2))
    with pytest.raises(TypeError, match='CSR'):
        csr_product(dense, sp.csr_matrix(dense))
    with pytest.raises(TypeError, match='CSR'):
        csr_product(sp.csc_matrix(dense), sp.csr_matrix(dense))
    with pytest.raises(ValueError, match='do not align'):
        csr_product(sp.csr_matrix(np.ones((2, 3))), sp.csr_matrix(dense))


@pytest.mark.parametrize('workers', [1, 3])
def test_csr_product_sorts_indices_on_request(workers, monkeypatch):
    monkeypatch.setattr(sparse_product, 'CHUNK_ENTRIES', 50)
    left = _random_csr(80, 60, 0.1, np.float64, 9, empty_rows=(5,))
    right = _random_csr(60, 70, 0.1, np.float64, 10)
    expected = (left @ right).tocsr()
    expected.sort_indices()
    product = csr_product(left, right, workers=workers, sort_indices=True)
    assert product.has_sorted_indices
    _assert_same(product, expected)
    unsorted = csr_product(left, right, workers=workers)
    assert not np.array_equal(unsorted.indices, expected.indices)
