"""Size and fill the memory banks M_I and M_M before training (paper Sec. 3.3)."""
import copy
from typing import List, Optional

import torch
from mmengine.dataset import Compose
from mmengine.dist import all_reduce, is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from mmdet.registry import HOOKS

from .ssl_model import (MEMORY_BANK_HOOK, check_ssl_dataset,
                        population_norm_head, ssl_model, unwrap_model)


@HOOKS.register_module()
class MemoryBankHook(Hook):
    """Initialise the memory banks with one pass over the training set.

    Before the first epoch, the banks are given one row per training box
    (``dataset.num_instances``) and every row is set from the current network:
    M_I from the main branch's embedding of the ground-truth box (the box used as a
    proposal), M_M from the mean exemplar feature f^h (or f_i without the exemplar
    branch). During training the detector itself keeps them up to date (Eq. 5).
    The model and the training set must offer what
    :mod:`mmssl.engine.hooks.ssl_model` declares (checked before training).

    An embedding head that normalises with population statistics
    (``ReIDEmbeddingHead(norm_stats='population')``) has, before training, only
    the statistics of its initialisation; so first the head's statistics (of every
    domain: scene boxes and exemplar crops) are estimated from the ground-truth
    persons of the first ``calibration_images`` images
    (:meth:`ReIDEmbeddingHead.calibrating`), then the banks are filled.

    A resumed run whose checkpoint carried initialised banks of the right size
    skips the pass.

    With ``refresh_interval=n``, every ``n``-th epoch starts with the same pass
    again, before the pseudo-label hook reads the banks: Eq. 5 updates each row
    once per epoch, when its box is seen, so by the time labels are made a row holds
    what an earlier network saw (on SynthPS from random init: cosine 0.46-0.62
    between a stored M_I row and a fresh feature of its box). The pass logs the
    mean cosine between the stored and the fresh rows of each bank, which measures
    that lag, then stores the fresh rows. An epoch whose labels a checkpoint
    already holds (a resumed run) is not refreshed again. In a distributed run the pass is split across ranks by the
    sampler and every rank receives every row (``PersonMemory.fill`` gathers).

    Args:
        pipeline: Data pipeline of the pass; None uses the training pipeline
            without its random transforms (``RandomFlip``, ``RandomChoiceResize``
            are replaced by nothing / the first scale).
        batch_size: Images per forward pass.
        num_workers: Data-loading workers of the pass.
        refill: Fill even when the banks were restored from a checkpoint.
        calibration_images: Images whose boxes estimate the embedding head's
            population statistics before the fill (0: keep the statistics).
        refresh_interval: Refill the banks at the start of every this many
            epochs (0: never; the paper's momentum update alone).
    """

    priority = 'NORMAL'

    def __init__(self,
                 pipeline: Optional[List[dict]] = None,
                 batch_size: int = 4,
                 num_workers: int = 0,
                 refill: bool = False,
                 calibration_images: int = 100,
                 refresh_interval: int = 0) -> None:
        if refresh_interval < 0:
            raise ValueError(f'refresh_interval must be >= 0, got '
                             f'{refresh_interval}')
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.refill = refill
        self.calibration_images = calibration_images
        self.refresh_interval = refresh_interval

    def before_train(self, runner: Runner) -> None:
        """Size the banks to the training set and fill them, unless restored."""
        model = ssl_model(runner, MEMORY_BANK_HOOK)
        dataset = runner.train_dataloader.dataset
        check_ssl_dataset(dataset, MEMORY_BANK_HOOK)
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

    def before_train_epoch(self, runner: Runner) -> None:
        """Refill the banks when this epoch is due for a refresh."""
        epoch = runner.epoch
        if (not self.refresh_interval or epoch == 0
                or epoch % self.refresh_interval):
            return
        model = unwrap_model(runner)
        if int(model.pseudo_labels.epoch) == epoch:
            return  # labels of this epoch restored: the banks are those it saw
        before = (model.memory.instance_feats.clone(),
                  model.memory.exemplar_feats.clone())
        self._fill(runner, model, runner.train_dataloader.dataset,
                   calibrate=False)
        lag = [float((old * new).sum(dim=1).mean()) for old, new in zip(
            before, (model.memory.instance_feats, model.memory.exemplar_feats))]
        runner.logger.info(f'memory banks refreshed at epoch {epoch}: mean cosine '
                           f'stored/fresh M_I {lag[0]:.3f}, M_M {lag[1]:.3f}')
        runner.message_hub.update_scalar('memory/refresh_cosine_instance', lag[0])
        runner.message_hub.update_scalar('memory/refresh_cosine_exemplar', lag[1])

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

    def _pass_loader(self, runner: Runner, dataset):
        """A deterministic, unshuffled loader over the training images."""
        pass_dataset = copy.copy(dataset)
        pass_dataset.pipeline = Compose(self._pass_pipeline(dataset))
        return runner.build_dataloader(
            dict(
                dataset=pass_dataset,
                batch_size=self.batch_size,
                num_workers=self.num_workers,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='pseudo_collate')),
            seed=runner.seed)

    @torch.no_grad()
    def _calibrate(self, runner: Runner, model: torch.nn.Module, loader) -> None:
        """Estimate the embedding head's population statistics from the
        ground-truth boxes of the first ``calibration_images`` images."""
        head = population_norm_head(model)
        if self.calibration_images <= 0 or head is None:
            return
        seen = 0
        with head.calibrating():
            for data_batch in loader:
                data = model.data_preprocessor(data_batch, True)
                inputs, samples = data['inputs'], data['data_samples']
                # the boxes and, with an exemplar branch, their crops: every
                # normalisation domain of the head gets its statistics
                model.reid_features(inputs, model.extract_feat(inputs), samples)
                seen += len(samples)
                if seen >= self.calibration_images:
                    break
        # ranks saw different images: every rank takes the mean estimate
        for stat in head.population_statistics():
            all_reduce(stat, op='mean')
        runner.logger.info(f'embedding head: population statistics estimated '
                           f'from the boxes of {seen} images')

    @torch.no_grad()
    def _fill(self, runner: Runner, model: torch.nn.Module, dataset,
              calibrate: bool = True) -> None:
        """Run the network over every training box and write the banks."""
        loader = self._pass_loader(runner, dataset)
        was_training = model.training
        model.eval()
        if calibrate:
            self._calibrate(runner, model, loader)
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
