"""PersonMemory: Eq. 5 update, fill, Eq. 6, resize and checkpoint round trips."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.runner.checkpoint import load_state_dict as mmengine_load_state_dict

from mmssl.models.memory import PersonMemory


def unit(n, d, seed):
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)),
                       dim=1)


def filled_memory(n=10, d=6, seed=0, momentum=0.8):
    memory = PersonMemory(num_samples=n, feat_dim=d, momentum=momentum)
    memory.fill(torch.arange(n), unit(n, d, seed), unit(n, d, seed + 1))
    return memory


def test_construction_and_registry():
    memory = MODELS.build(dict(type='PersonMemory', num_samples=4, feat_dim=3))
    assert isinstance(memory, PersonMemory)
    assert memory.instance_feats.shape == (4, 3)
    assert memory.exemplar_feats.dtype == torch.float32
    assert memory.initialised.dtype == torch.bool and not bool(memory.initialised)
    assert set(memory.state_dict()) == {'instance_feats', 'exemplar_feats',
                                        'initialised'}
    assert PersonMemory().num_samples == 0
    with pytest.raises(ValueError, match='momentum'):
        PersonMemory(momentum=1.5)


def test_update_is_eq5_then_unit_length():
    memory = filled_memory()
    old_inst = memory.instance_feats.clone()
    old_exem = memory.exemplar_feats.clone()
    rows = torch.tensor([2, 7, 4])
    f_i = unit(3, 6, 10)
    f_h = unit(3, 6, 11) * 0.7  # a mean of unit exemplar features is shorter
    memory.update(rows, f_i, f_h)
    expected_inst = F.normalize(0.8 * f_i + 0.2 * old_inst[rows], dim=1)
    expected_exem = F.normalize(0.8 * f_h + 0.2 * old_exem[rows], dim=1)
    torch.testing.assert_close(memory.instance_feats[rows], expected_inst)
    torch.testing.assert_close(memory.exemplar_feats[rows], expected_exem)
    untouched = torch.tensor([0, 1, 3, 5, 6, 8, 9])
    assert torch.equal(memory.instance_feats[untouched], old_inst[untouched])
    torch.testing.assert_close(memory.instance_feats.norm(dim=1), torch.ones(10))


def test_update_one_bank_only_and_repeats_in_order():
    memory = filled_memory(momentum=0.5)
    old_inst = memory.instance_feats.clone()
    old_exem = memory.exemplar_feats.clone()
    rows = torch.tensor([3, 1, 3, 3])
    feats = unit(4, 6, 12)
    memory.update(rows, exemplar_feats=feats)
    assert torch.equal(memory.instance_feats, old_inst)
    expected = old_exem.clone()
    for r, f in zip(rows.tolist(), feats):  # the loop the vectorised code equals
        expected[r] = F.normalize(0.5 * f + 0.5 * expected[r], dim=0)
    torch.testing.assert_close(memory.exemplar_feats, expected)


def test_update_does_not_track_gradients():
    memory = filled_memory()
    feats = unit(2, 6, 13).requires_grad_(True)
    memory.update(torch.tensor([0, 1]), feats, feats * 2)
    assert not memory.instance_feats.requires_grad
    assert memory.instance_feats.grad_fn is None


def test_fill_normalises_and_combined_is_eq6():
    memory = PersonMemory(num_samples=5, feat_dim=4)
    inst = torch.randn(5, 4) * 3
    exem = torch.randn(5, 4) * 0.1
    memory.fill([4, 3, 2, 1, 0], inst, exem)
    torch.testing.assert_close(memory.instance_feats, F.normalize(inst, dim=1).flip(0))
    combined = memory.combined()
    expected = F.normalize((F.normalize(inst, dim=1) + F.normalize(exem, dim=1)) / 2,
                           dim=1).flip(0)
    torch.testing.assert_close(combined, expected)
    torch.testing.assert_close(combined.norm(dim=1), torch.ones(5))
    assert not bool(memory.initialised)
    memory.mark_initialised()
    assert bool(memory.initialised)


def test_bad_input_errors_name_the_index():
    memory = filled_memory()
    with pytest.raises(IndexError, match='instance index 10 .* 10 rows'):
        memory.update(torch.tensor([1, 10]), unit(2, 6, 0))
    with pytest.raises(IndexError, match='instance index -1'):
        memory.fill(torch.tensor([-1]), unit(1, 6, 0))
    with pytest.raises(ValueError, match=r'instance_feats has shape \(2, 5\)'):
        memory.update(torch.tensor([1, 2]), torch.randn(2, 5))
    with pytest.raises(ValueError, match='integer'):
        memory.update(torch.tensor([1.0]), unit(1, 6, 0))


def test_resize_keeps_buffer_identity():
    memory = filled_memory()
    memory.mark_initialised()
    inst_buffer = memory.instance_feats
    memory.resize(10)  # unchanged: nothing happens
    assert bool(memory.initialised) and memory.instance_feats.abs().sum() > 0
    memory.resize(25, 8)
    assert memory.instance_feats is inst_buffer
    assert memory.instance_feats.shape == (25, 8)
    assert memory.exemplar_feats.shape == (25, 8)
    assert memory.instance_feats.abs().sum() == 0 and not bool(memory.initialised)
    assert memory.state_dict()['instance_feats'].shape == (25, 8)


def test_checkpoint_round_trip_into_empty_memory(tmp_path):
    source = filled_memory(n=13, d=6)
    source.update(torch.tensor([0, 5]), unit(2, 6, 20), unit(2, 6, 21))
    source.mark_initialised()
    path = tmp_path / 'memory.pth'
    torch.save(source.state_dict(), path)
    state = torch.load(path, weights_only=True)

    target = PersonMemory(num_samples=0, feat_dim=6)
    target.load_state_dict(state)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key

    # the same through MMEngine's loader, into a memory of another size
    other = PersonMemory(num_samples=4, feat_dim=6)
    mmengine_load_state_dict(other, state, strict=True)
    assert torch.equal(other.exemplar_feats, source.exemplar_feats)
    assert bool(other.initialised)


def test_checkpoint_nested_in_a_model():
    """Resizing works under a prefix, as inside the detector."""
    source = torch.nn.Module()
    source.memory = filled_memory(n=7, d=6)
    target = torch.nn.Module()
    target.memory = PersonMemory()
    target.load_state_dict(source.state_dict())
    assert target.memory.num_samples == 7 and target.memory.feat_dim == 6
    assert torch.equal(target.memory.instance_feats, source.memory.instance_feats)


def test_checkpoint_with_inconsistent_banks_fails():
    state = filled_memory(n=5, d=6).state_dict()
    state['exemplar_feats'] = torch.zeros(4, 6)
    with pytest.raises(RuntimeError, match='exemplar_feats'):
        PersonMemory().load_state_dict(state)
