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
# * SynthPS data. Its dataloaders are written out below (the same as
#   configs/_base_/datasets/synthps.py): listing that file next to the mmdet base
#   fails, since MMEngine refuses keys defined by two bases (train_dataloader,
#   test_pipeline, ...), so this file replaces the COCO ones with ``_delete_``.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

model = dict(
    type='PersonSearchDetector',
    # the exemplar branch needs the foreground masks padded like the images
    data_preprocessor=dict(pad_mask=True),
    roi_head=dict(
        _delete_=True,
        type='PersonSearchRoIHead',
        num_stages=1,
        stage_loss_weights=[1.0],
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        stage_shared_heads=None,
        bbox_head=dict(
            type='Shared2FCBBoxHead',
            in_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=1,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0.0, 0.0, 0.0, 0.0],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=True,
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
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
        rcnn=dict(
            score_thr=0.05, nms=dict(type='nms', iou_threshold=0.4),
            max_per_img=50)))

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

# ------------------------------------------------------------------ SynthPS data
dataset_type = 'SynthPSDataset'
data_root = 'data/synthps/'
render_cfg = dict(seed=0)
image_scale = (384, 256)  # (width, height): SynthPS frames as rendered
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True, with_fg_mask=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPersonSearchInputs')
]
# annotations load before Resize: query boxes are embedded in resized coordinates
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='PackPersonSearchInputs')
]
train_dataloader = dict(
    _delete_=True,
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        render_cfg=render_cfg,
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        test_mode=True,
        render_cfg=render_cfg,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='PersonSearchMetric')
test_evaluator = val_evaluator

# mmdet's 1x schedule (12 epochs, steps at 8 and 11) at batch 2; clipped gradients
# keep the early contrastive losses from blowing up the detector
optim_wrapper = dict(
    optimizer=dict(lr=0.005), clip_grad=dict(max_norm=10.0, norm_type=2))
train_cfg = dict(val_interval=12)
auto_scale_lr = dict(enable=False, base_batch_size=2)
