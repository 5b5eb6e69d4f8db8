"""An epoch-based training loop that resumes mid-epoch exactly."""
from typing import Optional

from mmdet.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop

from ..random_states import set_random_states


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that continues a resumed epoch where it stopped.

    MMEngine's epoch loop restarts a resumed epoch from its first batch, so a run
    resumed from an iteration checkpoint trains some batches twice (and sees the
    memory banks and pseudo labels of a different history). This loop skips the
    batches of the current epoch that the checkpoint already trained (they are
    drawn from the dataloader, so the sampler and the pipeline's random streams
    advance as in the uninterrupted run) and then restores the random states
    that :class:`RandomStateHook` saved with the checkpoint and handed over with
    :meth:`resume_random_states` (the loop owns them from then on), so the
    following iterations draw the same random numbers (proposal sampling,
    flips...) as the uninterrupted run. With ``num_workers=0``, or workers whose randomness comes
    from the per-epoch seed, the resumed run then matches the uninterrupted one.

    Args: as :class:`mmengine.runner.EpochBasedTrainLoop`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pending_random_states: Optional[dict] = None

    def resume_random_states(self, states: dict) -> None:
        """Apply ``states`` (:func:`~mmssl.engine.random_states.get_random_states`)
        where the resumed checkpoint stopped: before the first batch it did not
        train."""
        self._pending_random_states = states

    def run_epoch(self) -> None:
        """Run one epoch, skipping the batches a resumed checkpoint already did."""
        done = self._iter - self._epoch * len(self.dataloader)
        if done == 0:
            # resumed at an epoch boundary: the states were saved right here
            self._restore_random_states()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        if done > 0:
            self.runner.logger.info(
                f'resuming epoch {self._epoch + 1} after its first {done} '
                'iterations: skipping their batches')
        for idx, data_batch in enumerate(self.dataloader):
            if idx < done:
                if idx == done - 1:
                    # the next batch is the first one the checkpoint did not see
                    self._restore_random_states()
                continue
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _restore_random_states(self) -> None:
        """Apply the random states of the resumed checkpoint, once."""
        if self._pending_random_states is not None:
            set_random_states(self._pending_random_states)
            self._pending_random_states = None
