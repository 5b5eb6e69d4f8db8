"""The SSL person-search detector (paper Fig. 2)."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.detectors import TwoStageDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, get_box_tensor, scale_boxes
from mmengine.structures import InstanceData
from torch import Tensor

from ..layers import (crop_roi_feats, frozen_bn_statistics,
                      make_exemplar_crops, original_crop_roi_feats)
from ..losses import RowImages, batch_multilabels, cluster_centroids

#: Embedding-head normalisation domain of original-scale crops; scale ``k`` of the
#: exemplar branch uses the next ones (see ReIDEmbeddingHead, "Domains").
ORIGINAL_CROP_DOMAIN = 1


@MODELS.register_module()
class PersonSearchDetector(TwoStageDetector):
    """One-step person search: Faster R-CNN (C4, two box stages) + re-id, trained
    with the multi-scale exemplar branch and pseudo labels of SSL.

    Training (Eq. 13): ``L = L_scale + (L_cluster + L_DML) + L_det``.

    * ``L_det``: RPN and the box stages of the RoI head.
    * Main branch instance features ``f_i``: the RoI head's embedding of each
      ground-truth box.
    * Multi-scale exemplar branch (``exemplar_branch``; training only): every
      ground-truth person is cropped from the augmented input, multiplied by its
      foreground mask and resized to each scale (Eq. 1); the crops run through the
      same backbone and re-id head, giving ``f^o, f^1..f^K`` and
      ``f^h = normalize(mean(f^o, f^1..f^K))``.
    * ``L_scale`` (Eq. 2-4) on ``f_i`` and the exemplars.
    * Before pseudo labels exist: an instance-level contrast over the memory M_I
      (each box its own class). After the pseudo-label hook stored labels:
      ``L_cluster`` (cluster contrast, centroids of M_I) and ``L_DML`` (Eq. 12:
      Eq. 11 on M_I with ``f_i`` plus Eq. 11 on M_M with ``f^h``).
    * After the losses, M_I and M_M take ``f_i`` and ``f^h`` (Eq. 5).

    Inference uses the main branch only: detections with scores and embeddings; a
    query record (``is_query``) gets the embedding of its given box.

    Args:
        backbone, neck, rpn_head, roi_head, train_cfg, test_cfg, data_preprocessor,
            init_cfg: As :class:`mmdet.models.TwoStageDetector`; ``roi_head`` is a
            :class:`PersonSearchRoIHead` with an ``embedding_head``.
        exemplar_branch: ``dict(scales=[(h, w), ...], with_original=True)`` or None
            (no exemplar branch: the baseline). ``scales=[]`` keeps the original
            crop only (the paper's Tab. 2 "original scale").
        loss_scale: ``ScaleInvariantLoss`` config or None.
        loss_cluster: ``ClusterContrastLoss`` config (also the instance contrast
            used before pseudo labels exist) or None.
        loss_dml: ``DynamicMultiLabelLoss`` config or None.
        memory: ``PersonMemory`` config (M_I and M_M; ``num_samples`` may be 0, the
            memory-bank hook sizes and fills it).
        pseudo_labels: ``PseudoLabelStore`` config.
        multilabel_cadence: where ``L_DML`` takes its positive sets:
            ``'iteration'`` (default) afresh for the persons of each batch against
            the current ``M`` (Eq. 6) with the epoch's ``t`` (Eq. 9), as the paper
            states Eq. 8 (:func:`~mmssl.models.losses.batch_multilabels`; the images
            of the memory rows come from :class:`RowImages`); ``'epoch'`` from the
            ``PseudoLabelStore`` (computed once per epoch by the pseudo-label
            hook). On the SynthPS main job the per-iteration labels measured better
            on the labels and equal on search (three seeds: multi-label precision
            0.41 against 0.35 at the last epoch, mAP 16.0 against 15.7;
            docs/benchmarks.md).
    """

    def __init__(self,
                 backbone: dict,
                 rpn_head: dict,
                 roi_head: dict,
                 train_cfg: dict,
                 test_cfg: dict,
                 neck: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 exemplar_branch: Optional[dict] = None,
                 loss_scale: Optional[dict] = None,
                 loss_cluster: Optional[dict] = None,
                 loss_dml: Optional[dict] = None,
                 memory: dict = dict(type='PersonMemory', num_samples=0),
                 pseudo_labels: dict = dict(type='PseudoLabelStore'),
                 multilabel_cadence: str = 'iteration',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            rpn_head=rpn_head,
            roi_head=roi_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if loss_scale is not None and exemplar_branch is None:
            raise ValueError('loss_scale needs the exemplar_branch')
        self.exemplar_scales: Optional[List[Tuple[int, int]]] = None
        if exemplar_branch is not None:
            self.exemplar_scales = [tuple(s) for s in exemplar_branch['scales']]
            self.exemplar_with_original = exemplar_branch.get('with_original', True)
            if not self.exemplar_scales and not self.exemplar_with_original:
                raise ValueError('exemplar_branch needs a scale or the original '
                                 'crop')
        self.loss_scale = MODELS.build(loss_scale) if loss_scale else None
        self.loss_cluster = MODELS.build(loss_cluster) if loss_cluster else None
        self.loss_dml = MODELS.build(loss_dml) if loss_dml else None
        self.memory = MODELS.build(memory)
        self.pseudo_labels = MODELS.build(pseudo_labels)
        if multilabel_cadence not in ('epoch', 'iteration'):
            raise ValueError(f"multilabel_cadence must be 'epoch' or 'iteration', "
                             f'got {multilabel_cadence!r}')
        self.multilabel_cadence = multilabel_cadence
        if multilabel_cadence == 'iteration':
            self.row_images = RowImages()

    @property
    def with_exemplar_branch(self) -> bool:
        """Whether training runs the multi-scale exemplar branch."""
        return self.exemplar_scales is not None

    # ------------------------------------------------------------------ training
    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> dict:
        """Detection losses plus the re-id losses of Eq. 13; updates the memory."""
        x = self.extract_feat(batch_inputs)
        losses = self._detection_losses(x, batch_data_samples)
        if self.roi_head.with_reid:
            losses.update(self._reid_losses(batch_inputs, x, batch_data_samples))
        return losses

    def _detection_losses(self, x: Tuple[Tensor],
                          batch_data_samples: SampleList) -> dict:
        """L_det: RPN and box-stage losses on the feature maps ``x``.

        This is the RPN + RoI part of :meth:`TwoStageDetector.loss` (mmdet 3.3,
        ``mmdet/models/detectors/two_stage.py``), not a call of it: that method
        extracts the feature maps itself and returns only the losses, while the
        re-id losses embed the ground-truth boxes from the same maps (one backbone
        pass, whose gradient both reach). Calling it would run the backbone twice.
        """
        losses = dict()
        proposal_cfg = self.train_cfg.get('rpn_proposal', self.test_cfg.rpn)
        rpn_data_samples = copy.deepcopy(batch_data_samples)
        for data_sample in rpn_data_samples:
            data_sample.gt_instances.labels = torch.zeros_like(
                data_sample.gt_instances.labels)
        rpn_losses, rpn_results_list = self.rpn_head.loss_and_predict(
            x, rpn_data_samples, proposal_cfg=proposal_cfg)
        for key in list(rpn_losses):
            if 'loss' in key and 'rpn' not in key:
                rpn_losses[f'rpn_{key}'] = rpn_losses.pop(key)
        losses.update(rpn_losses)
        losses.update(
            self.roi_head.loss(x, rpn_results_list, batch_data_samples))
        return losses

    def embed_instances(self, x: Tuple[Tensor],
                        boxes: Sequence[Tensor]) -> Tensor:
        """Main-branch features f_i of given boxes (one ``(n_b, 4)`` per image)."""
        return self.roi_head.embed_rois(x, bbox2roi(list(boxes)))

    def embed_exemplars(self, batch_inputs: Tensor, boxes: Sequence[Tensor],
                        masks: Sequence[Optional[Tensor]]) -> Tensor:
        """Multi-scale exemplar features ``(P, K + 1, d)`` (Sec. 3.2, Eq. 1).

        Column 0 is the original-scale exemplar f^o, columns 1..K the resized
        scales f^1..f^K, in the order of ``exemplar_branch['scales']``.

        Every crop's embedding depends on that crop alone (the backbone's and
        res5's batch norms use running statistics, the embedding head its
        per-domain population statistics), so the crops are batched for speed
        (docs/method.md, "Batching the exemplar crops"): the original-size
        crops, each padded to a multiple of 32, share one canvas
        (:func:`original_crop_roi_feats`), each scale is one batch
        (:func:`crop_roi_feats`), res5 runs once for all crops and the embedding
        head once per domain, so each domain's population statistics move once
        per step, from all its crops.
        """
        mean = self.data_preprocessor.mean.view(-1)
        std = self.data_preprocessor.std.view(-1)
        background = (0.0 - mean) / std  # a black pixel, normalised
        originals: List[Tensor] = []
        scaled: List[List[Tensor]] = [[] for _ in self.exemplar_scales]
        for image, img_boxes, img_masks in zip(batch_inputs, boxes, masks):
            img_originals, img_scaled = make_exemplar_crops(
                image, img_boxes, img_masks, self.exemplar_scales, background)
            originals.extend(img_originals)
            for k, crops in enumerate(img_scaled):
                scaled[k].append(crops)
        head = self.roi_head.embedding_head
        if not originals:
            # f^o and f^1..f^K (f^o twice with the original scale only)
            num_columns = max(len(self.exemplar_scales), 1) + 1
            return batch_inputs.new_zeros((0, num_columns, head.embed_dim))
        stage = self.roi_head.num_stages - 1
        extractor = self.roi_head.bbox_roi_extractor[stage]
        roi_feats, domains = [], []
        with frozen_bn_statistics(self):
            if self.exemplar_with_original:
                roi_feats.append(original_crop_roi_feats(
                    self.extract_feat, self.backbone, extractor, originals,
                    background, self.with_neck))
                domains.append(ORIGINAL_CROP_DOMAIN)
            for k, crops in enumerate(scaled):
                batch = torch.cat(crops)
                size = (batch.shape[3], batch.shape[2])
                roi_feats.append(crop_roi_feats(self.extract_feat, self.backbone,
                                                extractor, batch,
                                                [size] * len(batch)))
                domains.append(ORIGINAL_CROP_DOMAIN + 1 + k)
            roi_feats = torch.cat(roi_feats)
            feats = self.roi_head.stage_shared_heads[stage](roi_feats)
        # one call per domain: normalised with the statistics from before it
        num = len(originals)
        columns = [
            self.roi_head._embed(r, f, domain=d) for r, f, d in zip(
                roi_feats.split(num), feats.split(num), domains)
        ]
        if not self.exemplar_with_original:
            # f^o falls back to the first scale when the original crop is off
            columns.insert(0, columns[0])
        if not self.exemplar_scales:
            # original scale only (Tab. 2): f^o is also the one positive scale
            columns.append(columns[0])
        return torch.stack(columns, dim=1)

    def reid_features(self, batch_inputs: Tensor, x: Tuple[Tensor],
                      batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Per ground-truth person: memory row, image, f_i, exemplars and f^h.

        Shared by training and by the memory-bank initialisation pass.

        Returns:
            dict with ``rows`` (P,) memory rows (instance indices), ``image_ids``
            (P,) position of each person's image in the batch, ``instance_feats``
            (P, d) f_i, ``exemplar_feats`` (P, K + 1, d) or None without the
            exemplar branch, and ``merged_feats`` (P, d): f^h, or f_i without the
            exemplar branch (what M_M receives).
        """
        gts = [ds.gt_instances for ds in batch_data_samples]
        boxes = [get_box_tensor(g.bboxes) for g in gts]
        rows = torch.cat([g.instance_indices for g in gts]).long()
        if (rows < 0).any():
            raise ValueError('training boxes need instance indices >= 0 (the '
                             'rows of the memory banks); got a negative index')
        image_ids = torch.cat([
            torch.full((len(b), ), i, dtype=torch.long, device=rows.device)
            for i, b in enumerate(boxes)
        ])
        if self.multilabel_cadence == 'iteration' and self.memory.num_samples:
            # (an unsized memory, before MemoryBankHook, has no rows to learn)
            self.row_images.record(rows, image_ids, self.memory.num_samples)
        instance_feats = self.embed_instances(x, boxes)
        exemplars = None
        merged_feats = instance_feats
        if self.with_exemplar_branch and rows.numel() > 0:
            masks = [
                g.masks.to_tensor(torch.float32, batch_inputs.device)
                if 'masks' in g else None for g in gts
            ]
            exemplars = self.embed_exemplars(batch_inputs, boxes, masks)
            merged_feats = F.normalize(exemplars.mean(dim=1), dim=1)
        return dict(rows=rows, image_ids=image_ids, instance_feats=instance_feats,
                    exemplar_feats=exemplars, merged_feats=merged_feats)

    def _reid_losses(self, batch_inputs: Tensor, x: Tuple[Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Re-id losses of Eq. 13 and the memory update of Eq. 5."""
        if self.memory.num_samples == 0:
            raise RuntimeError(
                'the memory banks are empty: add MemoryBankHook to the config '
                '(custom_hooks) so that they are sized and filled before training')
        feats = self.reid_features(batch_inputs, x, batch_data_samples)
        rows = feats['rows']
        losses: Dict[str, Tensor] = {}
        if feats['exemplar_feats'] is not None and self.loss_scale is not None:
            losses['loss_scale'] = self.loss_scale(feats['instance_feats'],
                                                   feats['exemplar_feats'],
                                                   feats['image_ids'])
        losses.update(self._label_losses(feats['instance_feats'],
                                         feats['merged_feats'], rows))
        # collective in DDP: every rank calls it, also with no persons
        self.memory.update(rows, feats['instance_feats'].detach(),
                           feats['merged_feats'].detach())
        return losses

    def _label_losses(self, instance_feats: Tensor, merged_feats: Tensor,
                      rows: Tensor) -> Dict[str, Tensor]:
        """L_cluster and L_DML with pseudo labels, or the instance contrast.

        The losses read snapshots of the banks: the banks are updated in place
        right after (Eq. 5), before backward needs the values.
        """
        losses: Dict[str, Tensor] = {}
        store = self.pseudo_labels
        bank_i = self.memory.instance_feats.clone()
        if not store.has_labels:
            if self.loss_cluster is not None:
                losses['loss_instance'] = self.loss_cluster(
                    instance_feats, bank_i, rows)
            return losses
        if self.loss_cluster is not None:
            labels = store.cluster_labels
            centroids = cluster_centroids(bank_i, labels)
            losses['loss_cluster'] = self.loss_cluster(instance_feats, centroids,
                                                       labels[rows])
        if self.loss_dml is not None:
            indptr, indices = store.multilabel_indptr, store.multilabel_indices
            if self.multilabel_cadence == 'iteration':
                indptr, indices = batch_multilabels(
                    self.memory.combined(), rows, self.row_images.image_keys(),
                    float(store.threshold))
            losses['loss_dml_instance'] = self.loss_dml(
                instance_feats, bank_i, indptr, indices, rows)
            if self.with_exemplar_branch:
                losses['loss_dml_exemplar'] = self.loss_dml(
                    merged_feats, self.memory.exemplar_feats.clone(), indptr,
                    indices, rows)
        return losses

    # ----------------------------------------------------------------- inference
    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Detect and embed persons; embed the given box of query records.

        Returns:
            The data samples with ``pred_instances`` (``bboxes``, ``scores``,
            ``labels``, ``embeddings``), boxes in original image coordinates when
            ``rescale``. Without a re-id head, query records get no instances.
        """
        x = self.extract_feat(batch_inputs)
        is_query = [bool(ds.metainfo.get('is_query', False))
                    for ds in batch_data_samples]
        results: List[Optional[InstanceData]] = [None] * len(batch_data_samples)
        gallery = [i for i, q in enumerate(is_query) if not q]
        if gallery:
            sub_x = tuple(level[gallery] for level in x)
            sub_samples = [batch_data_samples[i] for i in gallery]
            rpn_results = self.rpn_head.predict(sub_x, sub_samples, rescale=False)
            dets = self.roi_head.predict(sub_x, rpn_results, sub_samples,
                                         rescale=rescale)
            for i, det in zip(gallery, dets):
                results[i] = det
        queries = [i for i, q in enumerate(is_query) if q]
        if queries and not self.roi_head.with_reid:
            # a detector without re-id (detection-only configs): nothing to embed;
            # the metric then reports detection figures only
            for i in queries:
                empty = InstanceData()
                empty.bboxes = x[0].new_zeros((0, 4))
                empty.scores = x[0].new_zeros((0, ))
                empty.labels = x[0].new_zeros((0, ), dtype=torch.long)
                results[i] = empty
            queries = []
        if queries:
            sub_x = tuple(level[queries] for level in x)
            boxes = [get_box_tensor(batch_data_samples[i].gt_instances.bboxes)
                     for i in queries]
            feats = self.embed_instances(sub_x, boxes).split(
                [len(b) for b in boxes])
            for i, img_boxes, img_feats in zip(queries, boxes, feats):
                meta = batch_data_samples[i].metainfo
                if rescale:
                    img_boxes = scale_boxes(
                        img_boxes, [1 / s for s in meta['scale_factor']])
                query = InstanceData()
                query.bboxes = img_boxes
                query.scores = img_boxes.new_ones(len(img_boxes))
                query.labels = img_boxes.new_zeros(len(img_boxes), dtype=torch.long)
                query.embeddings = img_feats
                results[i] = query
        return self.add_pred_to_datasample(batch_data_samples, results)
