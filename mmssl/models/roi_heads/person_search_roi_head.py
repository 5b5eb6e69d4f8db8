"""The person-search RoI head: two box stages (SeqNet) plus a re-id embedding head."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmcv.ops import RoIAlign
from torch import nn
from mmdet.models.layers import multiclass_nms
from mmdet.models.roi_heads import CascadeRoIHead
from mmdet.models.utils import empty_instances
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi, get_box_tensor
from mmengine.config import ConfigDict
from mmengine.model import ModuleList
from mmengine.structures import InstanceData
from torch import Tensor

from ..layers import RoIAlignFastBackward

ConfigLike = Union[dict, ConfigDict]
#: How a detection is scored from the stages' classifications (test time).
STAGE_SCORES = ('mean', 'first', 'last')


@MODELS.register_module()
class PersonSearchRoIHead(CascadeRoIHead):
    """Faster R-CNN C4 box head with a second refining stage and re-id embeddings.

    As in SeqNet, the first stage classifies and regresses the RPN proposals; the
    second stage takes the first stage's regressed boxes, classifies and regresses
    them again, and its RoI features also give each detection its re-id embedding
    (so the embedding costs no extra RoI pass at test time). Each stage runs its own
    res5 (``stage_shared_heads``) on RoI-aligned C4 features; an embedding head with
    ``res4_channels`` also embeds those RoI-aligned features (CGPS's res4 + res5).
    How a detection is scored and whether an NMS runs between the stages are options
    of the test config (:meth:`predict_bbox`). The extractors' mmcv ``RoIAlign``
    layers run as :class:`~mmssl.models.layers.RoIAlignFastBackward`: the same
    function and gradient, a faster backward on the CPU.

    Args:
        num_stages: Number of box stages (2 as in SeqNet; 1 gives plain Faster R-CNN).
        stage_loss_weights: Loss weight of each stage.
        bbox_roi_extractor: RoI extractor config(s).
        bbox_head: Box head config(s), one per stage or shared.
        stage_shared_heads: res5 config(s) run on the RoI features of each stage
            (C4 layout); None for heads that take RoI features directly (FPN).
        embedding_head: Re-id embedding head config (``ReIDEmbeddingHead``).
        train_cfg: One R-CNN train config per stage.
        test_cfg: R-CNN test config.
        init_cfg: MMEngine init config.
    """

    def __init__(self,
                 num_stages: int,
                 stage_loss_weights: Sequence[float],
                 bbox_roi_extractor: ConfigLike,
                 bbox_head: Union[ConfigLike, List[ConfigLike]],
                 stage_shared_heads: Optional[Union[ConfigLike,
                                                    List[ConfigLike]]] = None,
                 embedding_head: Optional[ConfigLike] = None,
                 train_cfg: Optional[List[ConfigLike]] = None,
                 test_cfg: Optional[ConfigLike] = None,
                 init_cfg: Optional[ConfigLike] = None) -> None:
        super().__init__(
            num_stages=num_stages,
            stage_loss_weights=stage_loss_weights,
            bbox_roi_extractor=bbox_roi_extractor,
            bbox_head=bbox_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            init_cfg=init_cfg)
        if not isinstance(stage_shared_heads, list):
            stage_shared_heads = [stage_shared_heads] * num_stages
        if len(stage_shared_heads) != num_stages:
            raise ValueError(f'{len(stage_shared_heads)} stage_shared_heads given '
                             f'for {num_stages} stages')
        self.stage_shared_heads = ModuleList([
            MODELS.build(cfg) if cfg is not None else nn.Identity()
            for cfg in stage_shared_heads
        ])
        self.embedding_head = (
            MODELS.build(embedding_head) if embedding_head is not None else None)
        # the same RoIAlign; on CPU tensors its backward takes a fraction of
        # mmcv's time, with the same values (RoIAlignFastBackward)
        for extractor in self.bbox_roi_extractor:
            layers = getattr(extractor, 'roi_layers', ())
            for i, layer in enumerate(layers):
                if type(layer) is RoIAlign:
                    layers[i] = RoIAlignFastBackward.from_layer(layer)

    @property
    def with_reid(self) -> bool:
        """Whether the head produces re-id embeddings."""
        return self.embedding_head is not None

    def _stage_feats(self, stage: int, x: Tuple[Tensor],
                     rois: Tensor) -> Tuple[Tensor, Tensor]:
        """RoI-align C4 features and run the stage's res5.

        Returns:
            ``(roi_feats, bbox_feats)``: the RoI-aligned features (res4 in the C4
            layout) and the stage's res5 output on them.
        """
        extractor = self.bbox_roi_extractor[stage]
        roi_feats = extractor(x[:extractor.num_inputs], rois)
        return roi_feats, self.stage_shared_heads[stage](roi_feats)

    def _embed(self, roi_feats: Tensor, bbox_feats: Tensor,
               domain: int = 0) -> Tensor:
        """The embedding head on a stage's features: res5, and the RoI-aligned
        (res4) features when the head embeds them too (``res4_channels``)."""
        if getattr(self.embedding_head, 'res4_channels', None) is None:
            return self.embedding_head(bbox_feats, domain=domain)
        return self.embedding_head(bbox_feats, domain=domain, res4_feats=roi_feats)

    def _bbox_forward(self, stage: int, x: Tuple[Tensor], rois: Tensor) -> dict:
        """Box forward of one stage (used by mmdet's cascade loss and refinement)."""
        roi_feats, bbox_feats = self._stage_feats(stage, x, rois)
        cls_score, bbox_pred = self.bbox_head[stage](bbox_feats)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=bbox_feats,
                    roi_feats=roi_feats)

    def embed_rois(self, x: Tuple[Tensor], rois: Tensor, domain: int = 0) -> Tensor:
        """Embed given RoIs ``(n, 5)`` with the last stage's res5 and the re-id head.

        Used for ground-truth boxes in training (the instance features f_i), for the
        exemplar crops, and for query boxes at test time.

        Args:
            x: feature maps.
            rois: ``(n, 5)`` RoIs.
            domain: the embedding head's normalisation domain (0: scene RoIs;
                see :class:`ReIDEmbeddingHead`).
        """
        if not self.with_reid:
            raise RuntimeError('this RoI head has no embedding_head')
        if rois.shape[0] == 0:
            return x[0].new_zeros((0, self.embedding_head.embed_dim))
        return self._embed(*self._stage_feats(self.num_stages - 1, x, rois),
                           domain=domain)

    def predict_bbox(self,
                     x: Tuple[Tensor],
                     batch_img_metas: List[dict],
                     rpn_results_list: List[InstanceData],
                     rcnn_test_cfg: ConfigLike,
                     rescale: bool = False,
                     **kwargs) -> List[InstanceData]:
        """Detect persons and embed each detection.

        Each stage classifies its RoIs and regresses them into the next stage's
        RoIs; the last stage's regression gives the boxes. Two options of
        ``rcnn_test_cfg`` (``model.test_cfg.rcnn``) choose the rest:

        * ``stage_scores``: the score of a box, ``'mean'`` (default) the stages'
          classification logits averaged, as :class:`CascadeRoIHead` does;
          ``'first'`` the first stage's, as SeqNet's "first classification score"
          (serend1p1ty/SeqNet ``models/seqnet.py`` lines 318-320); ``'last'`` the
          last stage's.
        * ``inter_stage_nms``: None (default) runs the next stage on every refined
          RoI; ``dict(score_thr=..., nms=dict(type='nms', iou_threshold=...),
          max_per_img=...)`` first keeps, per image, the refined RoIs that pass
          this score threshold and NMS on the stage's own scores, as SeqNet does
          between its stages (lines 203-206, torchvision's
          ``postprocess_detections`` with ``SCORE_THRESH_TEST``,
          ``NMS_THRESH_TEST`` and ``DETECTIONS_PER_IMAGE_TEST`` of
          ``defaults.py``).

        The last head's public ``predict_by_feat`` (with ``rcnn_test_cfg=None``:
        decoded boxes and class scores before NMS) gives the candidates; one NMS
        (``rcnn_test_cfg.nms``) keeps the index of each surviving box, so that it
        carries the embedding of the last stage's RoI it was regressed from.

        Why not :meth:`CascadeRoIHead.predict_bbox`: its refinement
        (``_refine_roi``) averages the stages' scores (``'mean'`` only), keeps
        every refined RoI (no point between the stages for an NMS), and returns
        neither the last stage's RoI features, which the embeddings need, nor
        the indices of the boxes the final NMS keeps. The loop below is the same
        refinement (each stage's ``_bbox_forward``, then the box head's public
        ``regress_by_class`` per image) with those three additions.

        Returns:
            One :class:`InstanceData` per image with ``bboxes``, ``scores``, ``labels``
            and, when the head has re-id, ``embeddings``.
        """
        score_rule = rcnn_test_cfg.get('stage_scores', 'mean')
        if score_rule not in STAGE_SCORES:
            raise ValueError(f'PersonSearchRoIHead: test_cfg.stage_scores must be one '
                             f'of {STAGE_SCORES}, got {score_rule!r}')
        inter_stage_nms = rcnn_test_cfg.get('inter_stage_nms')
        proposals = [res.bboxes for res in rpn_results_list]
        num_per_img = [len(p) for p in proposals]
        rois = bbox2roi(proposals)
        stage_scores: List[Tensor] = []
        for stage in range(self.num_stages):
            if rois.shape[0] == 0:
                return self._empty_results(batch_img_metas, rois.device)
            out = self._bbox_forward(stage, x, rois)
            stage_scores.append(out['cls_score'])
            if stage < self.num_stages - 1:
                rois = self._refine_rois(stage, rois, out, num_per_img,
                                         batch_img_metas)
                if inter_stage_nms is not None:
                    keep = self._keep_between_stages(rois, out['cls_score'],
                                                     num_per_img, inter_stage_nms)
                    rois = rois[keep]
                    stage_scores = [score[keep] for score in stage_scores]
                    num_per_img = torch.bincount(
                        rois[:, 0].long(), minlength=len(num_per_img)).tolist()
        if score_rule == 'first':
            cls_score = stage_scores[0]
        elif score_rule == 'last':
            cls_score = stage_scores[-1]
        else:
            cls_score = sum(stage_scores) / float(self.num_stages)
        embeddings = (self._embed(out['roi_feats'], out['bbox_feats'])
                      if self.with_reid else None)

        last_head = self.bbox_head[-1]
        candidates = last_head.predict_by_feat(
            rois=rois.split(num_per_img), cls_scores=cls_score.split(num_per_img),
            bbox_preds=out['bbox_pred'].split(num_per_img),
            batch_img_metas=batch_img_metas, rcnn_test_cfg=None, rescale=rescale)
        split_emb = (embeddings.split(num_per_img)
                     if embeddings is not None else [None] * len(num_per_img))
        results_list = []
        for raw, img_emb in zip(candidates, split_emb):
            dets, labels, inds = multiclass_nms(
                raw.bboxes, raw.scores, rcnn_test_cfg.score_thr,
                rcnn_test_cfg.nms, rcnn_test_cfg.max_per_img, return_inds=True)
            result = InstanceData()
            result.bboxes = dets[:, :4]
            result.scores = dets[:, -1]
            result.labels = labels
            if img_emb is not None:
                num_classes = last_head.num_classes
                result.embeddings = img_emb[inds // num_classes]
            results_list.append(result)
        return results_list

    def _refine_rois(self, stage: int, rois: Tensor, out: dict,
                     num_per_img: List[int], batch_img_metas: List[dict]) -> Tensor:
        """The next stage's RoIs: ``stage``'s regression of its RoIs, per image."""
        head = self.bbox_head[stage]
        labels = out['cls_score'][:, :-1].argmax(dim=1)
        refined = []
        for i, (img_rois, img_labels, img_preds) in enumerate(
                zip(rois.split(num_per_img), labels.split(num_per_img),
                    out['bbox_pred'].split(num_per_img))):
            boxes = head.regress_by_class(img_rois[:, 1:], img_labels, img_preds,
                                          batch_img_metas[i])
            refined.append(torch.cat([img_rois[:, :1], get_box_tensor(boxes)], dim=1))
        return torch.cat(refined)

    def _keep_between_stages(self, rois: Tensor, cls_score: Tensor,
                             num_per_img: List[int], cfg: ConfigLike) -> Tensor:
        """Indices of the refined RoIs that pass ``cfg``'s score threshold and NMS
        on the scores of the stage that refined them, image by image."""
        num_classes = self.bbox_head[0].num_classes
        scores = torch.softmax(cls_score, dim=-1)
        keep, offset = [], 0
        for img_rois, img_scores in zip(rois.split(num_per_img),
                                        scores.split(num_per_img)):
            _, _, inds = multiclass_nms(img_rois[:, 1:], img_scores,
                                        cfg['score_thr'], cfg['nms'],
                                        cfg['max_per_img'], return_inds=True)
            # one row per RoI and class: a RoI kept for two classes counts once
            keep.append(torch.unique(inds // num_classes) + offset)
            offset += len(img_rois)
        return torch.cat(keep)

    def _empty_results(self, batch_img_metas: List[dict],
                       device: torch.device) -> List[InstanceData]:
        """One empty result (with ``(0, d)`` embeddings) per image."""
        results = empty_instances(
            batch_img_metas, device, task_type='bbox',
            box_type=self.bbox_head[-1].predict_box_type,
            num_classes=self.bbox_head[-1].num_classes)
        return [self._with_empty_embeddings(r) for r in results]

    def _with_empty_embeddings(self, result: InstanceData) -> InstanceData:
        """Add a ``(0, d)`` embeddings field to an empty result."""
        if self.with_reid:
            result.embeddings = result.bboxes.new_zeros(
                (0, self.embedding_head.embed_dim))
        return result
