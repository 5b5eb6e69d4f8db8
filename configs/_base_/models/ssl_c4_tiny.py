# SSL person-search detector sized for a CPU: a ResNet-18-shaped backbone with 16
# base channels (C4 layout: stages 1-3 in the backbone, a small res5 on the RoIs),
# two box stages as in SeqNet, 256-d embeddings, the multi-scale exemplar branch.
# ImageNet weights cannot be had here: backbone and res5 start from the packaged
# SynthPS attribute-classification weights, loaded as the paper configs load
# torchvision://resnet50 (docs/pretraining.md), and, as there, their batch norms
# keep the pretrained statistics (norm_eval): no person's features depend on the
# other persons of its batch (docs/method.md, "Normalisation").
pretrained = 'mmssl://synthps_r18c16_attributes'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='PersonSearchDetector',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_mask=True),
    backbone=dict(
        type='ResNet',
        depth=18,
        base_channels=16,
        num_stages=3,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(2, ),
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    rpn_head=dict(
        type='RPNHead',
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[1, 2, 4, 8],
            ratios=[2.0, 3.0],
            strides=[16]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0.0, 0.0, 0.0, 0.0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='PersonSearchRoIHead',
        num_stages=2,
        stage_loss_weights=[1.0, 1.0],
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=8, sampling_ratio=0),
            out_channels=64,
            featmap_strides=[16]),
        stage_shared_heads=dict(
            type='ResStageHead', in_channels=64, planes=128, num_blocks=2,
            block='basic', stride=2, norm_cfg=norm_cfg, norm_eval=True,
            init_cfg=dict(
                type='Pretrained', checkpoint=pretrained, prefix='layer4.')),
        bbox_head=[
            dict(
                type='BBoxHead',
                with_avg_pool=True,
                roi_feat_size=4,
                in_channels=128,
                num_classes=1,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=[0.0, 0.0, 0.0, 0.0],
                    target_stds=std),
                reg_class_agnostic=True,
                loss_cls=dict(
                    type='CrossEntropyLoss', use_sigmoid=False,
                    loss_weight=1.0),
                loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))
            for std in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1])
        ],
        # population statistics of the scenes, of original-scale crops and of
        # each of the three scales (docs/method.md, "Normalisation")
        embedding_head=dict(
            type='ReIDEmbeddingHead', in_channels=128, embed_dim=256,
            num_domains=5)),
    exemplar_branch=dict(
        scales=[(56, 24), (112, 48), (224, 96)], with_original=True),
    loss_scale=dict(type='ScaleInvariantLoss', margin=0.3, gamma=0.05),
    loss_cluster=dict(
        type='ClusterContrastLoss', temperature=0.05,
        hard_negative_ratio=0.6),
    loss_dml=dict(type='DynamicMultiLabelLoss'),
    memory=dict(type='PersonMemory', num_samples=0, momentum=0.8),
    pseudo_labels=dict(type='PseudoLabelStore'),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=128,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(
            nms_pre=1000,
            max_per_img=300,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=[
            dict(
                assigner=dict(
                    type='MaxIoUAssigner',
                    pos_iou_thr=iou,
                    neg_iou_thr=iou,
                    min_pos_iou=iou,
                    match_low_quality=False,
                    ignore_iof_thr=-1),
                sampler=dict(
                    type='RandomSampler',
                    num=48,
                    pos_fraction=0.5,
                    neg_pos_ub=-1,
                    add_gt_as_proposals=True),
                pos_weight=-1,
                debug=False) for iou in (0.5, 0.6)
        ]),
    test_cfg=dict(
        rpn=dict(
            nms_pre=600,
            max_per_img=150,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.4),
            max_per_img=50)))
