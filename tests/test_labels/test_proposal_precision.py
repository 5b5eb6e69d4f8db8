import numpy as np
import pytest
import torch

from mmssl.labels.proposal_precision import (ProposalRows, proposal_device,
                                             proposal_dtype, proposal_error)
from mmssl.labels.synthetic_features import make_clustered_bank


@pytest.fixture(scope='module')
def bank():
    return make_clustered_bank(600, dim=32, duplicate_fraction=0.08, seed=11)


def test_proposal_error_bound_holds(bank):
    rows = ProposalRows(bank.features, torch.bfloat16, torch.device('cpu'))
    proposed = (rows.matrix @ rows.matrix.T).float().numpy()
    x = bank.features.astype(np.float64)
    exact = (x @ x.T).astype(np.float32).astype(np.float64)
    bound = proposal_error(rows, rows, np.arange(len(bank.features)), proposed)
    error = np.abs(proposed - exact)
    assert (error <= bound).all()
    assert error.max() > 1e-3  # bfloat16 does err, and the bound is not vacuous:
    assert bound.max() < 0.01


def test_gpu_proposals_are_float32():
    assert proposal_dtype(torch.device('cuda:0')) == torch.float32
    assert proposal_device().type == ('cuda' if torch.cuda.is_available()
                                         else 'cpu')


def test_float32_rows_carry_no_rounding_error(bank):
    rows = ProposalRows(bank.features, torch.float32, torch.device('cpu'))
    assert (rows.errors == 0).all()
    bound = proposal_error(rows, rows, np.arange(3), np.zeros((3, 2)))
    assert bound.shape == (3, 2) and (bound < 2e-5).all()
