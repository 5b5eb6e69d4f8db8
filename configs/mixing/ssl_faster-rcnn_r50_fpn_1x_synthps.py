# Mixing mmssl into an MMDetection model: MMDetection's own Faster R-CNN R-50 FPN
# (inherited through an ``mmdet::`` base, resolved from the installed mmdet's
# ``.mim/configs``) turned into an SSL person-search detector on SynthPS.
#
# What changes against the COCO detector:
# * the detector is mmssl's PersonSearchDetector (exemplar branch, memory banks,
#   pseudo labels; Eq. 13 losses), the RoI head mmssl's PersonSearchRoIHead with
#   one box stage and no res5 (``stage_shared_heads=None``: FPN's Shared2FCBBoxHead
#   takes the RoI features directly) and a re-id embedding head on the same
#   256-channel RoI features;
# * one class (person), the memory-bank and pseudo-label hooks;
# * SynthPS data: configs/_base_/datasets/synthps.py takes the place of mmdet's COCO
#   dataset base; the model, schedule and runtime bases are the other three of
#   mmdet's faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/synthps.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]

custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

model = dict(
    type='PersonSearchDetector',
    # the exemplar branch needs the foreground masks padded like the images
    data_preprocessor=dict(pad_mask=True),
    roi_head=dict(
        type='PersonSearchRoIHead',
        num_stages=1,
        stage_loss_weights=[1.0],
        stage_shared_heads=None,
        # mmdet's Shared2FCBBoxHead, for one class
        bbox_head=dict(num_classes=1, reg_class_agnostic=True),
        embedding_head=dict(
            type='ReIDEmbeddingHead', in_channels=256, embed_dim=256,
            num_domains=5)),
    # multi-scale exemplar branch (Sec. 3.2, Eq. 1): SynthPS-sized scales
    exemplar_branch=dict(
        scales=[(56, 24), (112, 48), (224, 96)], with_original=True),
    loss_scale=dict(type='ScaleInvariantLoss', margin=0.3, gamma=0.05),
    loss_cluster=dict(
        type='ClusterContrastLoss', temperature=0.05, hard_negative_ratio=0.6),
    loss_dml=dict(type='DynamicMultiLabelLoss'),
    memory=dict(type='PersonMemory', num_samples=0, momentum=0.8),
    pseudo_labels=dict(type='PseudoLabelStore'),
    train_cfg=dict(
        # a cascade-style RoI head takes one R-CNN train config per stage
        rcnn=[
            dict(
                assigner=dict(
                    type='MaxIoUAssigner',
                    pos_iou_thr=0.5,
                    neg_iou_thr=0.5,
                    min_pos_iou=0.5,
                    match_low_quality=False,
                    ignore_iof_thr=-1),
                sampler=dict(
                    type='RandomSampler',
                    num=128,
                    pos_fraction=0.5,
                    neg_pos_ub=-1,
                    add_gt_as_proposals=True),
                pos_weight=-1,
                debug=False)
        ]),
    test_cfg=dict(
        rcnn=dict(nms=dict(iou_threshold=0.4), max_per_img=50)))

custom_hooks = [
    dict(type='MemoryBankHook', batch_size=4),
    dict(
        type='PseudoLabelHook',
        start_epoch=1,
        feature_source='combined',
        label_cfg=dict(
            t_s=0.6, alpha=0.1, beta=-0.1, k1=30, k2=6,
            eps=(0.68, 0.70, 0.72), min_samples=4))
]

# SynthPS's evaluator without the cross-scale breakdown
val_evaluator = dict(_delete_=True, type='PersonSearchMetric')
test_evaluator = val_evaluator

# mmdet's 1x schedule (12 epochs, steps at 8 and 11) at batch 2; clipped gradients
# keep the early contrastive losses from blowing up the detector
optim_wrapper = dict(
    optimizer=dict(lr=0.005), clip_grad=dict(max_norm=10.0, norm_type=2))
train_cfg = dict(val_interval=12)
auto_scale_lr = dict(enable=False, base_batch_size=2)
