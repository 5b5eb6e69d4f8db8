"""Worker of test_invalid_loss_hook.py's two-rank test (a plain module so spawned
processes can import it; pytest does not collect it).

Each rank guards a tiny model with ``InvalidLossHook`` and parses two sets of
losses: the first finite on both ranks, the second NaN on rank 1 only. Each rank
writes the message of the ``FloatingPointError`` it got to ``rank<r>.txt``.
"""
import datetime
import importlib.util
import os
import sys
import types

import torch
import torch.distributed as torch_dist


def load_hook_module():
    """The hook's module: inherited from a forked parent, or loaded by its path
    without ``mmssl/__init__.py`` (which imports every component: seconds per
    process on 2 cores)."""
    name = 'mmssl.engine.hooks.invalid_loss_hook'
    if name in sys.modules:
        return sys.modules[name]
    package_dir = importlib.util.find_spec('mmssl').submodule_search_locations[0]
    path = os.path.join(package_dir, 'engine', 'hooks', 'invalid_loss_hook.py')
    spec = importlib.util.spec_from_file_location('_invalid_loss_hook', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(rank: int, port: int, out_dir: str) -> None:
    """Entry point of one rank (``torch.multiprocessing`` passes ``rank``)."""
    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                                  rank=rank, world_size=2,
                                  timeout=datetime.timedelta(seconds=60))
    try:
        run_checks(rank, out_dir)
    finally:
        torch_dist.destroy_process_group()


def run_checks(rank: int, out_dir: str) -> None:
    """Parse a finite loss, then one that is NaN on rank 1 only."""
    from mmengine.model import BaseModel

    class NoForward(BaseModel):
        def forward(self, *args, **kwargs):
            raise NotImplementedError

    model = NoForward()
    hook = load_hook_module().InvalidLossHook()
    runner = types.SimpleNamespace(model=model, epoch=0, iter=7,
                                   train_loop=None)
    hook.before_train(runner)
    model.parse_losses(dict(loss_a=torch.tensor(1.0),
                            loss_b=torch.tensor(2.0)))
    bad = float('nan') if rank == 1 else 2.0
    message = 'no error'
    try:
        model.parse_losses(dict(loss_a=torch.tensor(1.0),
                                loss_b=torch.tensor(bad)))
    except FloatingPointError as err:
        message = str(err)
    with open(os.path.join(out_dir, f'rank{rank}.txt'), 'w') as f:
        f.write(message)
