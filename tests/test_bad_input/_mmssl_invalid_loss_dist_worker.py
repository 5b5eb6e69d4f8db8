"""Worker of test_invalid_loss_hook.py's two-rank test (a plain module so the
ranks can import it; pytest does not collect it). The ranks are forked from the
test process, so mmssl is already imported.

Each rank guards a tiny model with ``InvalidLossHook`` and runs two forward
passes that return losses: the first finite on both ranks, the second NaN on
rank 1 only. Each rank writes the message of the ``FloatingPointError`` it got
to ``rank<r>.txt``.
"""
import datetime
import os
import types

import torch
import torch.distributed as torch_dist


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
    """Return a finite loss, then one that is NaN on rank 1 only."""
    from mmengine.model import BaseModel

    class GivenLosses(BaseModel):
        """A forward pass that returns the losses it is given."""

        def forward(self, losses, mode='loss'):
            return losses

    model = GivenLosses()
    from mmssl.engine.hooks.invalid_loss_hook import InvalidLossHook
    hook = InvalidLossHook()
    runner = types.SimpleNamespace(model=model, epoch=0, iter=7,
                                   train_loop=None)
    hook.before_train(runner)
    model(dict(loss_a=torch.tensor(1.0), loss_b=torch.tensor(2.0)))
    bad = float('nan') if rank == 1 else 2.0
    message = 'no error'
    try:
        model(dict(loss_a=torch.tensor(1.0), loss_b=torch.tensor(bad)))
    except FloatingPointError as err:
        message = str(err)
    with open(os.path.join(out_dir, f'rank{rank}.txt'), 'w') as f:
        f.write(message)
