"""Size and fill the memory banks M_I and M_M before training (paper Sec. 3.3)."""
import copy
from typing import List, Optional

import torch
from mmengine.dataset import Compose
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from mmdet.registry import HOOKS


def unwrap_model(runner: Runner) -> torch.nn.Module:
    """The runner's model without its DDP (or other) wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


@HOOKS.register_module()
class MemoryBankHook(Hook):
    """Initialise the memory banks with one pass over the training set.

    Before the first epoch, the banks are given one row per training box
    (``dataset.num_instances``) and every row is set from the current network:
    M_I from the main branch's embedding of the ground-truth box (the box used as a
    proposal), M_M from the mean exemplar feature f^h (or f_i without the exemplar
    branch). During training the detector itself keeps them up to date (Eq. 5).

    A resumed run whose checkpoint carried initialised banks of the right size
    skips the pass. In a distributed run the pass is split across ranks by the
    sampler and every rank receives every row (``PersonMemory.fill`` gathers).

    Args:
        pipeline: Data pipeline of the pass; None uses the training pipeline
            without its random transforms (``RandomFlip``, ``RandomChoiceResize``
            are replaced by nothing / the first scale).
        batch_size: Images per forward pass.
        num_workers: Data-loading workers of the pass.
        refill: Fill even when the banks were restored from a checkpoint.
    """

    priority = 'NORMAL'

    def __init__(self,
                 pipeline: Optional[List[dict]] = None,
                 batch_size: int = 4,
                 num_workers: int = 0,
                 refill: bool = False) -> None:
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.refill = refill

    def before_train(self, runner: Runner) -> None:
        """Size the banks to the training set and fill them, unless restored."""
        model = unwrap_model(runner)
        dataset = runner.train_dataloader.dataset
        num = dataset.num_instances
        memory = model.memory
        if (memory.num_samples == num and bool(memory.initialised)
                and not self.refill):
            runner.logger.info(f'memory banks: {num} rows restored from the '
                               'checkpoint, initialisation pass skipped')
            return
        memory.resize(num)
        model.pseudo_labels.resize(num)
        self._fill(runner, model, dataset)
        memory.mark_initialised()

    def _pass_pipeline(self, dataset) -> List[dict]:
        """The pass's pipeline: given, or the training one made deterministic."""
        if self.pipeline is not None:
            return copy.deepcopy(self.pipeline)
        steps = []
        for step in dataset.pipeline.transforms:
            name = type(step).__name__
            if name == 'RandomFlip':
                continue
            if name == 'RandomChoiceResize':
                from mmdet.datasets.transforms import Resize
                step = Resize(scale=step.scales[0], keep_ratio=True)
            steps.append(step)
        return steps

    @torch.no_grad()
    def _fill(self, runner: Runner, model: torch.nn.Module, dataset) -> None:
        """Run the network over every training box and write the banks."""
        pass_dataset = copy.copy(dataset)
        pass_dataset.pipeline = Compose(self._pass_pipeline(dataset))
        loader = runner.build_dataloader(
            dict(
                dataset=pass_dataset,
                batch_size=self.batch_size,
                num_workers=self.num_workers,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='pseudo_collate')),
            seed=runner.seed)
        was_training = model.training
        model.eval()
        progress = ProgressBar(len(loader)) if is_main_process() else None
        runner.logger.info(f'memory banks: filling {dataset.num_instances} rows '
                           f'from {len(dataset)} images')
        for data_batch in loader:
            data = model.data_preprocessor(data_batch, True)
            inputs, samples = data['inputs'], data['data_samples']
            feats = model.reid_features(inputs, model.extract_feat(inputs),
                                        samples)
            model.memory.fill(feats['rows'], feats['instance_feats'],
                              feats['merged_feats'])
            if progress is not None:
                progress.update()
        if progress is not None:
            print()
        model.train(was_training)
