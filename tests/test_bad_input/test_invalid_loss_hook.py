"""Case 7: a NaN or infinite loss during training (``InvalidLossHook``).

A tiny linear model trained by MMEngine's ``Runner`` (4 iterations per epoch)
turns one loss term NaN, or its weights NaN through an infinite gradient; the
hook must stop the run with a ``FloatingPointError`` that names the terms, the
epoch and the iteration, before the step is applied, and no checkpoint with
non-finite weights may be written.
"""
import os.path as osp
import socket
import time
import uuid
from pathlib import Path
from typing import List, Optional

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from mmdet.registry import HOOKS
from mmssl.engine.hooks import InvalidLossHook
from mmssl.engine.hooks.invalid_loss_hook import (all_finite,
                                                  declared_non_finite,
                                                  loss_terms,
                                                  non_finite_tensors,
                                                  non_finite_values)

WORKER_DIR = str(Path(__file__).resolve().parent)
ITERS_PER_EPOCH = 4


class ThresholdStore(nn.Module):
    """Stands for the pseudo-label store: a NaN ``threshold`` until labels,
    declared as allowed to be non-finite."""

    non_finite_buffers = ('threshold', )

    def __init__(self):
        super().__init__()
        self.register_buffer('threshold', torch.tensor(float('nan')))


class TinyModel(BaseModel):
    """``y = w x + b``; call ``bad_call`` (1-based) of the loss goes wrong.

    Args:
        bad_call: the loss call that goes wrong (None: never).
        how: ``'nan_term'`` (``loss_b`` is NaN), ``'inf_term'`` (``loss_a`` is
            inf), or ``'nan_gradient'`` (finite loss, infinite gradient: the
            weights become NaN).
    """

    def __init__(self, bad_call: Optional[int] = None, how: str = 'nan_term'):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.pseudo_labels = ThresholdStore()
        self.bad_call, self.how = bad_call, how
        self.calls = 0
        self.weights_seen: List[torch.Tensor] = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        if mode != 'loss':
            return out
        self.calls += 1
        self.weights_seen.append(self.linear.weight.detach().clone())
        loss_a = out.pow(2).mean()
        loss_b = out.abs().mean()
        if self.calls == self.bad_call:
            if self.how == 'nan_term':
                loss_b = loss_b * float('nan')
            elif self.how == 'inf_term':
                loss_a = loss_a + float('inf')
            else:  # sqrt at 0: value 0, gradient inf
                loss_b = loss_b + (out - out.detach()).abs().sqrt().sum()
        return dict(loss_a=loss_a, loss_b=loss_b, acc=torch.tensor(0.5))


class TrainStepModel(TinyModel):
    """A model with its own ``train_step`` that never calls ``parse_losses``.

    Args:
        through_call: compute the losses with ``self(...)`` (forward hooks run)
            instead of ``self.forward(...)`` (none run).
    """

    def __init__(self, *args, through_call: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.through_call = through_call

    def train_step(self, data, optim_wrapper):
        forward = self if self.through_call else self.forward
        losses = forward(data['inputs'], mode='loss')
        total = losses['loss_a'] + losses['loss_b']
        optim_wrapper.update_params(total)
        return dict(loss=total.detach(), **losses)


def tiny_dataset():
    gen = torch.Generator().manual_seed(0)
    return [dict(inputs=torch.randn(2, generator=gen))
            for _ in range(2 * ITERS_PER_EPOCH)]


def make_runner(work_dir, model, max_epochs=3, hook=None, momentum=0.0):
    return Runner(
        model=model,
        work_dir=str(work_dir),
        experiment_name=f'invalid_loss_{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(
            dataset=tiny_dataset(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.01, momentum=momentum)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[hook or dict(type='InvalidLossHook')],
        default_scope='mmdet',
        log_level='WARNING')


def checkpoint_weight(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']['linear.weight']


def test_registered_in_mmdet_hooks():
    assert HOOKS.get('InvalidLossHook') is InvalidLossHook
    assert HOOKS.get('CheckInvalidLossHook') is not InvalidLossHook


@pytest.mark.parametrize('how, message', [
    ('nan_term', 'loss_b=nan (total loss=nan)'),
    ('inf_term', 'loss_a=inf (total loss=inf)'),
])
def test_stops_before_the_step_and_keeps_the_good_checkpoint(
        tmp_path, how, message):
    model = TinyModel(bad_call=ITERS_PER_EPOCH + 2, how=how)  # epoch 2, iter 2
    runner = make_runner(tmp_path, model)
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    assert str(info.value) == (
        f'non-finite loss at epoch 2, iteration 2/{ITERS_PER_EPOCH} (global '
        f'iteration {ITERS_PER_EPOCH + 2}): {message}; training stopped before '
        'the optimiser step (no gradient of this iteration was applied)')
    # the weights are those the bad forward pass saw: no step was applied
    assert torch.equal(model.linear.weight.detach(), model.weights_seen[-1])
    assert torch.isfinite(model.linear.weight).all()
    # the epoch-1 checkpoint is there, finite, and nothing came after it
    assert osp.isfile(osp.join(tmp_path, 'epoch_1.pth'))
    assert not osp.exists(osp.join(tmp_path, 'epoch_2.pth'))
    first = checkpoint_weight(osp.join(tmp_path, 'epoch_1.pth'))
    assert torch.equal(first, model.weights_seen[ITERS_PER_EPOCH])


def test_nan_weights_are_never_saved(tmp_path):
    # finite loss but an infinite gradient at the last iteration of epoch 2:
    # the weights turn NaN just before the epoch-2 checkpoint
    model = TinyModel(bad_call=2 * ITERS_PER_EPOCH, how='nan_gradient')
    runner = make_runner(tmp_path, model, momentum=0.9)
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    assert str(info.value) == (
        'refusing to save a checkpoint at epoch 2, iteration 8: non-finite '
        'values in state_dict.linear.weight, state_dict.linear.bias, '
        'optimizer.state.0.momentum_buffer, optimizer.state.1.momentum_buffer; '
        'the previous checkpoints are left as they are')
    assert not torch.isfinite(model.linear.weight).all()
    assert not osp.exists(osp.join(tmp_path, 'epoch_2.pth'))
    with open(osp.join(tmp_path, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_1.pth')
    assert torch.isfinite(
        checkpoint_weight(osp.join(tmp_path, 'epoch_1.pth'))).all()


def test_losses_without_a_forward_call_are_checked_after_the_step(tmp_path):
    model = TrainStepModel(bad_call=3, how='nan_term')
    runner = make_runner(tmp_path, model)
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    assert str(info.value) == (
        f'non-finite loss at epoch 1, iteration 3/{ITERS_PER_EPOCH} (global '
        'iteration 3): loss_b=nan (total loss=nan); training stopped after the '
        'optimiser step (the model computed its losses without a forward call); '
        'no checkpoint is written from here')
    assert not osp.exists(osp.join(tmp_path, 'epoch_1.pth'))


def test_an_own_train_step_calling_the_model_is_stopped_before_the_step(
        tmp_path):
    model = TrainStepModel(bad_call=3, how='nan_term', through_call=True)
    runner = make_runner(tmp_path, model)
    with pytest.raises(FloatingPointError,
                       match='loss_b=nan .* before the optimiser step'):
        runner.train()
    assert torch.equal(model.linear.weight.detach(), model.weights_seen[-1])


def test_a_clean_run_is_untouched(tmp_path):
    model = TinyModel()
    hook = InvalidLossHook()
    runner = make_runner(tmp_path, model, max_epochs=2, hook=hook)
    runner.train()
    # the NaN threshold buffer is allowed; both checkpoints are written
    assert osp.isfile(osp.join(tmp_path, 'epoch_2.pth'))
    assert 'parse_losses' not in vars(model)  # the model is not patched
    assert not model._forward_hooks  # the guard was removed
    assert model.calls == 2 * ITERS_PER_EPOCH


def test_checkpoint_check_without_allowances():
    hook = InvalidLossHook(allow_non_finite=())
    checkpoint = dict(meta=dict(epoch=1, iter=4),
                      state_dict=TinyModel().state_dict())
    with pytest.raises(FloatingPointError,
                       match=r'non-finite values in '
                       r'state_dict.pseudo_labels.threshold;'):
        hook.before_save_checkpoint(None, checkpoint)


def test_pure_checks():
    terms = dict(loss=torch.tensor(float('nan')), loss_x=torch.tensor(1.0),
                 loss_y=[1.0, float('-inf')], acc=float('nan'))
    assert list(loss_terms(terms)) == ['loss', 'loss_x', 'loss_y']
    assert not bool(all_finite(loss_terms(terms)))
    assert bool(all_finite(dict(loss=torch.ones(3), loss_b=2.0)))
    assert bool(all_finite({}))
    bad = non_finite_values(loss_terms(terms))
    assert list(bad) == ['loss', 'loss_y'] and bad['loss_y'] == float('-inf')
    state = dict(a=torch.ones(2), b=[torch.tensor([1.0, float('inf')]),
                                     torch.tensor([3], dtype=torch.long)],
                 c=dict(d=torch.tensor(float('nan'))), e='text')
    assert list(non_finite_tensors(state, 'ckpt')) == ['ckpt.b.0', 'ckpt.c.d']
    assert list(non_finite_tensors(state, 'ckpt', ['ckpt.c.*'])) == [
        'ckpt.b.0'
    ]
    assert declared_non_finite(TinyModel()) == ['pseudo_labels.threshold']


# ------------------------------------------------------------ two gloo ranks


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_all_ranks_stop_together(tmp_path, monkeypatch):
    """Only rank 1's loss is NaN: both ranks raise (neither waits forever)."""
    monkeypatch.syspath_prepend(WORKER_DIR)
    import _mmssl_invalid_loss_dist_worker as worker
    # forked: the children reuse this process's imports (spawn: ~7 s each);
    # they set one torch thread, as DataLoader workers do
    context = mp.start_processes(worker.run, args=(free_port(), str(tmp_path)),
                                 nprocs=2, join=False, start_method='fork')
    deadline = time.monotonic() + 120
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            raise TimeoutError('the ranks did not stop together')
    messages = [(tmp_path / f'rank{r}.txt').read_text() for r in range(2)]
    assert messages[0] == (
        'non-finite loss on another rank at iteration 8 (the loss terms of '
        'rank 0 are finite); training stopped before the optimiser step (no '
        'gradient of this iteration was applied)')
    assert messages[1] == (
        'non-finite loss at iteration 8: loss_b=nan (total loss=nan); '
        'training stopped before the optimiser step (no gradient of this '
        'iteration was applied)')
