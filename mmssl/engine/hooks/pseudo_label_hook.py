"""Compute the pseudo labels of each epoch from the memory banks (paper Sec. 3.3)."""
import json
from typing import Optional

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmdet.registry import HOOKS

from mmssl.diagnostics import crop_histograms, neighbour_identity_precision
from mmssl.labels import generate_pseudo_labels, pairwise_precision_recall
from mmssl.labels.degenerate_clusters import (dissolve_large_clusters,
                                              largest_cluster)
from .ssl_model import (PSEUDO_LABEL_HOOK, check_ssl_dataset, ssl_model,
                        unwrap_model)


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """Cluster-level labels (self-paced DBSCAN) and dynamic multi-labels per epoch.

    At the start of every ``interval``-th epoch from ``start_epoch``, rank 0 forms
    ``M = normalize(mean(M_I, M_M))`` (Eq. 6; or M_I alone with
    ``feature_source='instance'``, the setting of the paper's Tab. 2), calls
    :func:`mmssl.labels.generate_pseudo_labels` (dynamic multi-labels of Eq. 7-10
    and self-paced DBSCAN on the sparse k-reciprocal Jaccard distance) and stores
    the labels in the model's ``PseudoLabelStore``, which every rank then receives
    by broadcast. They live in the model, so checkpoints carry them and dataloader
    workers never need them.

    A clustering whose largest cluster holds more than ``max_cluster_share`` of
    the boxes is *degenerate* (:mod:`mmssl.labels.degenerate_clusters`): it is
    logged as a warning, its self-paced independence threshold is not kept for the
    later epochs (SpCL keeps the first epoch's; one learnt from a degenerate
    clustering would turn every later cluster into singletons), and the clusters
    over the share are split into singletons before the labels are stored.

    It logs a JSON line ``pseudo labels {...}``: epoch, clusters, singletons, the
    largest cluster's share, whether the clustering was degenerate, mean positives
    per sample, the threshold t, seconds per step and, when the training set has
    person ids (diagnostics only; they never reach the losses or the labels):

    * the pairwise precision and recall of both label kinds (the paper's Fig. 4);
    * with ``diagnostics``, the nearest-neighbour identity precision
      (:func:`~mmssl.diagnostics.neighbour_identity_precision`,
      neighbours from other images) of M_I, M_M and M, and of the colour-histogram
      floor on the same boxes (``nn_precision_instance``, ``_exemplar``,
      ``_combined``, ``_colour``); ``tools/analysis_tools/plot_learning_diagnostics.py``
      draws them over the epochs.

    Args:
        start_epoch: First epoch with pseudo labels (before it the detector trains
            with the instance-level contrast).
        interval: Recompute every this many epochs.
        feature_source: ``'combined'`` (Eq. 6) or ``'instance'`` (M_I only).
        label_cfg: Keyword arguments of ``generate_pseudo_labels`` (``t_s``,
            ``alpha``, ``beta`` of Eq. 9; ``k1``, ``k2``, ``eps``, ``min_samples``,
            ``same_image_rule``, ``search``...). A fixed threshold (the paper's Tab. 3
            "ML") is ``alpha=0``.
        log_quality: Log pairwise precision/recall when person ids are known.
        max_cluster_share: A clustering whose largest cluster holds more than this
            share of the boxes is degenerate (see above); None never calls one so
            (for toy sets with a handful of identities).
        diagnostics: Log the nearest-neighbour identity precision of the banks and
            of the colour-histogram floor when person ids are known.
    """

    priority = 'LOW'

    def __init__(self,
                 start_epoch: int = 0,
                 interval: int = 1,
                 feature_source: str = 'combined',
                 label_cfg: Optional[dict] = None,
                 log_quality: bool = True,
                 max_cluster_share: Optional[float] = 0.2,
                 diagnostics: bool = True) -> None:
        if feature_source not in ('combined', 'instance'):
            raise ValueError("feature_source must be 'combined' or 'instance', "
                             f'got {feature_source!r}')
        self.start_epoch = start_epoch
        self.interval = interval
        self.feature_source = feature_source
        self.label_cfg = dict(label_cfg or {})
        self.log_quality = log_quality
        if max_cluster_share is not None and not 0.0 < max_cluster_share <= 1.0:
            raise ValueError(f'max_cluster_share must lie in (0, 1] or be None, '
                             f'got {max_cluster_share}')
        self.max_cluster_share = max_cluster_share
        self.diagnostics = diagnostics
        self.independence_threshold: Optional[float] = None
        self._colour_features: Optional[np.ndarray] = None

    def before_train(self, runner: Runner) -> None:
        """Check that the model and the training set offer what the hook uses
        (:mod:`mmssl.engine.hooks.ssl_model`)."""
        ssl_model(runner, PSEUDO_LABEL_HOOK)
        check_ssl_dataset(runner.train_dataloader.dataset, PSEUDO_LABEL_HOOK)

    def before_train_epoch(self, runner: Runner) -> None:
        """Recompute and broadcast the labels when this epoch is due."""
        epoch = runner.epoch
        if epoch < self.start_epoch or (epoch - self.start_epoch) % self.interval:
            return
        model = unwrap_model(runner)
        store = model.pseudo_labels
        if store.has_labels and int(store.epoch) == epoch:
            runner.logger.info(f'pseudo labels of epoch {epoch} restored from the '
                               'checkpoint')
            return
        stats = None
        if is_main_process():
            stats = self._compute(runner, model, epoch)
        store.broadcast(src=0)
        if stats is not None:
            runner.logger.info('pseudo labels ' + json.dumps(stats))
            for key, value in stats.items():
                if isinstance(value, (int, float)) and value == value:
                    runner.message_hub.update_scalar(f'pseudo_labels/{key}', value)

    def _compute(self, runner: Runner, model: torch.nn.Module,
                 epoch: int) -> dict:
        """Generate labels on this rank, store them, and return their statistics."""
        memory = model.memory
        bank = (memory.combined() if self.feature_source == 'combined' else
                memory.instance_feats)
        features = bank.detach().float().cpu().numpy()
        dataset = runner.train_dataloader.dataset
        table = dataset.instance_table()
        result = generate_pseudo_labels(
            features, table['image_index'], epoch,
            independence_threshold=self.independence_threshold,
            **self.label_cfg)
        cluster_labels = result.cluster_labels
        _, largest_share = largest_cluster(cluster_labels)
        degenerate = (self.max_cluster_share is not None
                      and largest_share > self.max_cluster_share)
        if degenerate:
            runner.logger.warning(
                f'pseudo labels of epoch {epoch}: degenerate clustering, the '
                f'largest cluster holds {largest_share:.1%} of the '
                f'{len(cluster_labels)} boxes (max_cluster_share '
                f'{self.max_cluster_share:.0%}); its independence threshold is not '
                'kept and its clusters over that share become singletons')
            cluster_labels = dissolve_large_clusters(cluster_labels,
                                                     self.max_cluster_share)
        elif self.independence_threshold is None:
            self.independence_threshold = result.independence_threshold
        model.pseudo_labels.set(cluster_labels, result.multilabel_indptr,
                                result.multilabel_indices, epoch,
                                result.threshold)
        num = len(features)
        counts = np.bincount(cluster_labels)
        stats = dict(
            epoch=epoch,
            samples=num,
            clusters=int((counts > 1).sum()),
            singletons=int((counts == 1).sum()),
            largest_cluster_share=float(largest_share),
            degenerate=bool(degenerate),
            mean_positives=float(result.multilabels.nnz / max(num, 1)),
            threshold=float(result.threshold),
            seconds=float(result.timings.get('total', 0.0)))
        stats.update({f'seconds_{k}': float(v) for k, v in result.timings.items()
                      if k != 'total'})
        person_ids = table['person_id']
        if (person_ids >= 0).any():
            if self.log_quality:
                for name, labels in (('cluster', cluster_labels),
                                     ('multilabel', result.multilabels)):
                    scores = pairwise_precision_recall(labels, person_ids)
                    stats[f'{name}_precision'] = float(scores.precision)
                    stats[f'{name}_recall'] = float(scores.recall)
            if self.diagnostics:
                stats.update(self._bank_diagnostics(memory, dataset, table))
        return stats

    def _bank_diagnostics(self, memory, dataset, table: dict) -> dict:
        """Nearest-neighbour identity precision of M_I, M_M, M and the colour
        floor over the labelled boxes (diagnostics only)."""
        banks = dict(instance=memory.instance_feats, exemplar=memory.exemplar_feats,
                     combined=memory.combined())
        out = {}
        for name, bank in banks.items():
            out[f'nn_precision_{name}'] = neighbour_identity_precision(
                bank.detach().float().cpu().numpy(), table['person_id'],
                table['image_index'])
        if self._colour_features is None:
            paths = [dataset.get_data_info(int(i))['img_path']
                     for i in range(len(dataset))]
            self._colour_features = crop_histograms(paths, table['bboxes'],
                                                    table['image_index'])
        out['nn_precision_colour'] = neighbour_identity_precision(
            self._colour_features, table['person_id'], table['image_index'])
        return out

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Keep the self-paced independence threshold of the first epoch."""
        checkpoint.setdefault('meta', {})['pseudo_label_hook'] = dict(
            independence_threshold=self.independence_threshold)

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """Restore the independence threshold saved by :meth:`before_save_checkpoint`."""
        state = checkpoint.get('meta', {}).get('pseudo_label_hook')
        if state is not None:
            value = state.get('independence_threshold')
            self.independence_threshold = None if value is None else float(value)
