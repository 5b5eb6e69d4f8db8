"""Save the random number generators' states with each checkpoint."""
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.runner import Runner

from ..random_states import get_random_states, set_random_states
from ..runner import ResumableEpochBasedTrainLoop


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Put the random states into checkpoints and restore them on resume.

    MMEngine checkpoints carry weights, optimiser, schedulers and (with mmssl) the
    memory banks and pseudo labels, but not the random generators, so a resumed run
    draws other proposal samples and flips than the uninterrupted one would. The
    states are saved per rank. On resume they are handed to
    :meth:`ResumableEpochBasedTrainLoop.resume_random_states`, which applies them
    after skipping the batches already trained (drawing those batches uses random
    numbers too); with another loop they are applied at once.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Store this rank's random states in the checkpoint's meta."""
        checkpoint.setdefault('meta', {})['random_states'] = get_random_states()

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Restore the states (through the loop when it is resumable)."""
        states = checkpoint.get('meta', {}).get('random_states')
        if states is None:
            return
        # the built loop, if any: reading ``runner.train_loop`` would build one
        # (MMEngine's LoggerHook reads ``_train_loop`` for the same reason)
        loop = getattr(runner, '_train_loop', None)
        if isinstance(loop, ResumableEpochBasedTrainLoop):
            loop.resume_random_states(states)
        else:
            set_random_states(states)
