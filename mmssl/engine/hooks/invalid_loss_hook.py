"""Stop training at the first NaN or infinite loss, before the optimiser uses it.

mmdet's ``CheckInvalidLossHook`` looks at the total loss every ``interval``
iterations, after the optimiser step, with an ``assert`` (gone under ``python -O``).
:class:`InvalidLossHook` checks every iteration, between the loss and the optimiser
step, names the loss terms that are not finite, and refuses to write a checkpoint
that holds non-finite weights, so a diverged run never overwrites a good checkpoint.

A module may hold buffers that are legitimately NaN or infinite in a checkpoint (the
pseudo-label store's ``threshold`` before the first labels): it lists their names in
a class attribute ``non_finite_buffers`` (:data:`NON_FINITE_BUFFERS`), and the hook
allows them wherever that module sits in the model.
"""
import fnmatch
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
from mmengine import dist
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop, Runner
from torch.utils.hooks import RemovableHandle

from mmdet.registry import HOOKS

from .ssl_model import unwrap_model

LOSS_KEY = 'loss'
"""A log variable is a loss term when its name holds this (``parse_losses`` rule)."""
NON_FINITE_BUFFERS = 'non_finite_buffers'
"""The class attribute of a module that names its buffers allowed to be non-finite."""


# ---------------------------------------------------------------- pure checks


def loss_terms(log_vars: Mapping[str, object]) -> Dict[str, object]:
    """The entries of ``log_vars`` that are losses (their name holds ``'loss'``).

    These are the terms MMEngine's ``BaseModel.parse_losses`` sums into the loss
    that is back-propagated, and that total itself (``'loss'``).
    """
    return {k: v for k, v in log_vars.items() if LOSS_KEY in k}


def all_finite(values: Mapping[str, object]) -> torch.Tensor:
    """A 0-dim bool tensor: every value (tensor or number) is finite.

    Reads no value back to the host (no device synchronisation); the result lies
    on the device of the first tensor among ``values`` (CPU when there is none).
    """
    tensors = [v for v in values.values() if torch.is_tensor(v)]
    device = tensors[0].device if tensors else torch.device('cpu')
    flags = [
        torch.isfinite(torch.as_tensor(v).detach()).all().to(device)
        for v in values.values()
    ]
    if not flags:
        return torch.ones((), dtype=torch.bool, device=device)
    return torch.stack(flags).all()


def non_finite_values(values: Mapping[str, object]) -> Dict[str, float]:
    """The values (tensor or number) that hold a NaN or an infinity, by name.

    Returns:
        ``{name: value}`` with the value as a float (a tensor of several
        elements gives its first non-finite element), in the order of
        ``values``.
    """
    found = {}
    for name, value in values.items():
        tensor = torch.as_tensor(value).detach().reshape(-1).float()
        bad = tensor[~torch.isfinite(tensor)]
        if bad.numel():
            found[name] = float(bad[0])
    return found


def non_finite_tensors(state: object,
                       prefix: str = '',
                       allow: Sequence[str] = ()) -> Iterator[str]:
    """Names of the floating-point tensors in a nested state that are not finite.

    Args:
        state: a tensor, or dicts/lists/tuples of them (a ``state_dict``, an
            optimiser state); other values are ignored.
        prefix: name of ``state``; nested names are joined with ``'.'``.
        allow: ``fnmatch`` patterns of names that may hold non-finite values.

    Yields:
        The dotted name of every non-finite tensor not matched by ``allow``.
    """
    if torch.is_tensor(state):
        if (state.is_floating_point()
                and not any(fnmatch.fnmatchcase(prefix, p) for p in allow)
                and not bool(torch.isfinite(state).all())):
            yield prefix
    elif isinstance(state, Mapping):
        for key, value in state.items():
            name = f'{prefix}.{key}' if prefix else str(key)
            yield from non_finite_tensors(value, name, allow)
    elif isinstance(state, (list, tuple)):
        for index, value in enumerate(state):
            name = f'{prefix}.{index}' if prefix else str(index)
            yield from non_finite_tensors(value, name, allow)


def declared_non_finite(model: torch.nn.Module) -> List[str]:
    """``state_dict`` names of the buffers that modules of ``model`` declare may
    be non-finite (their :data:`NON_FINITE_BUFFERS` attribute)."""
    names = []
    for prefix, module in model.named_modules():
        for buffer in getattr(module, NON_FINITE_BUFFERS, ()):
            names.append(f'{prefix}.{buffer}' if prefix else buffer)
    return names


def count_ranks_with(flag: bool, device: torch.device) -> int:
    """How many ranks raise ``flag`` (``int(flag)`` outside distributed runs).

    Every rank must call it at the same point (one ``all_reduce``).
    """
    count = torch.tensor(int(flag), dtype=torch.int64, device=device)
    if dist.get_world_size() > 1:
        dist.all_reduce(count, op='sum')
    return int(count.item())


def format_values(values: Mapping[str, float]) -> str:
    """``'loss_a=nan, loss_b=inf'``."""
    return ', '.join(f'{name}={value}' for name, value in values.items())


# ----------------------------------------------------------------------- hook


@HOOKS.register_module()
class InvalidLossHook(Hook):
    """Raise ``FloatingPointError`` at the first non-finite loss; never save NaN.

    Three checks:

    * **before the optimiser step**, every iteration: during training the hook
      keeps a PyTorch forward hook (``register_forward_hook``) on the model,
      unwrapped from DDP. MMEngine's ``train_step``, plain or DDP-wrapped, calls
      the model in ``mode='loss'`` and only then ``parse_losses`` and
      ``optim_wrapper.update_params``; so when a forward pass returns a dict of
      losses, the hook parses them with the model's own ``parse_losses`` and
      raises when a loss term or the total is NaN or infinite. No gradient is
      applied. In a distributed run the ranks agree (one tiny ``all_reduce`` per
      iteration), so all of them stop instead of waiting on each other.
    * **after the iteration**, for a model whose own ``train_step`` computes its
      losses without calling the model (``self.forward(...)`` or ``self.loss(...)``
      directly, which runs no forward hook): the logged loss terms (the step has
      been applied then).
    * **before any checkpoint is written** (``before_save_checkpoint``): every
      floating-point tensor of the model's ``state_dict`` and of the optimiser
      state must be finite, else the file is not written. MMEngine's
      ``CheckpointHook`` saves at the end of an epoch (or every N iterations),
      after this hook's checks, so a checkpoint of a diverged run never replaces
      a good one. Buffers that modules declare in ``non_finite_buffers`` (the
      ``PseudoLabelStore``'s ``threshold``, NaN until the first labels) and
      those matched by ``allow_non_finite`` may be non-finite.

    The message names the non-finite loss terms with their values, the epoch
    and the iteration as the log prints them (1-based), e.g.
    ``non-finite loss at epoch 3, iteration 120/2852 (global iteration 5824):
    loss_dml=nan (total loss=nan)``.

    Args:
        allow_non_finite: further ``fnmatch`` patterns of ``state_dict`` names
            that may hold NaN/inf in a checkpoint.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, allow_non_finite: Sequence[str] = ()) -> None:
        self.allow_non_finite = tuple(allow_non_finite)
        self._declared: Tuple[str, ...] = ()
        self._batch_idx = 0
        self._checked_iter: Optional[int] = None
        self._guard: Optional[RemovableHandle] = None

    # --------------------------------------------------------------- messages

    def _where(self, runner: Runner) -> str:
        loop = runner.train_loop
        if isinstance(loop, EpochBasedTrainLoop):
            return (f'epoch {runner.epoch + 1}, iteration {self._batch_idx + 1}'
                    f'/{len(loop.dataloader)} (global iteration '
                    f'{runner.iter + 1})')
        return f'iteration {runner.iter + 1}'

    def _stop(self, runner: Runner, log_vars: Mapping[str, object],
              when: str) -> None:
        """Remove the forward hook and raise the error for ``log_vars``."""
        self._remove_guard()
        terms = loss_terms(log_vars)
        bad = non_finite_values(terms)
        total = bad.pop(LOSS_KEY, None)
        if bad or total is not None:
            what = format_values(bad) if bad else 'every term is finite'
            if total is not None:
                what += f' (total loss={total})'
            message = f'non-finite loss at {self._where(runner)}: {what}; {when}'
        else:
            message = (f'non-finite loss on another rank at '
                       f'{self._where(runner)} (the loss terms of rank '
                       f'{dist.get_rank()} are finite); {when}')
        raise FloatingPointError(message)

    # ------------------------------------------------------ the guarded step

    def _check_before_step(self, runner: Runner,
                           log_vars: Mapping[str, object]) -> None:
        finite = all_finite(loss_terms(log_vars))
        self._checked_iter = runner.iter
        if count_ranks_with(not bool(finite), finite.device):
            self._stop(
                runner, log_vars,
                'training stopped before the optimiser step (no gradient of '
                'this iteration was applied)')

    def before_train(self, runner: Runner) -> None:
        """Register the forward hook on the model; note its declared
        non-finite buffers."""
        model = unwrap_model(runner)
        self._declared = tuple(declared_non_finite(model))
        if self._guard is not None:
            return

        def check_losses(module, args, output):
            if isinstance(output, Mapping) and loss_terms(output):
                _, log_vars = module.parse_losses(output)
                self._check_before_step(runner, log_vars)

        self._guard = model.register_forward_hook(check_losses)

    def after_train(self, runner: Runner) -> None:
        """Remove the forward hook."""
        self._remove_guard()

    def _remove_guard(self) -> None:
        if self._guard is not None:
            self._guard.remove()
            self._guard = None

    def before_train_iter(self,
                          runner: Runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        """Remember the position in the epoch for the message."""
        self._batch_idx = batch_idx

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[Mapping[str, object]] = None) -> None:
        """Check the logged losses when no forward pass returned them."""
        if self._checked_iter == runner.iter or not outputs:
            return
        if not bool(all_finite(loss_terms(outputs))):
            self._stop(
                runner, outputs,
                'training stopped after the optimiser step (the model computed '
                'its losses without a forward call); no checkpoint is written '
                'from here')

    # ------------------------------------------------------------ checkpoints

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Refuse to write a checkpoint whose weights or optimiser state is not
        finite (the file is not written; the previous ones stay)."""
        allowed = [f'state_dict.{p}'
                   for p in self._declared + self.allow_non_finite]
        names: List[str] = list(
            non_finite_tensors(checkpoint.get('state_dict', {}), 'state_dict',
                               allowed))
        names += non_finite_tensors(checkpoint.get('optimizer', {}),
                                    'optimizer')
        if names:
            shown = ', '.join(names[:5])
            more = f' and {len(names) - 5} more' if len(names) > 5 else ''
            meta = checkpoint.get('meta', {})
            raise FloatingPointError(
                f'refusing to save a checkpoint at epoch {meta.get("epoch")}, '
                f'iteration {meta.get("iter")}: non-finite values in {shown}'
                f'{more}; the previous checkpoints are left as they are')
