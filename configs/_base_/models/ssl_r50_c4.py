# The paper's network (Sec. 4.2): ResNet-50 C4 Faster R-CNN with ImageNet init and a
# second box stage as in SeqNet, 256-d embeddings of res4 + res5 as CGPS and SeqNet,
# exemplar scales 112x48, 224x96, 448x192 plus the original-scale crop. Every value,
# its source (the paper, ljpadam/CGPS, serend1p1ty/SeqNet) and the reason where
# mmssl departs: docs/configs.md, "The paper configs, setting by setting". The CPU
# network (ssl_r18c16_c4.py) derives from this one.
pretrained = 'torchvision://resnet50'
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
        depth=50,
        base_channels=64,
        num_stages=3,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(2, ),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    rpn_head=dict(
        type='RPNHead',
        in_channels=1024,
        feat_channels=1024,
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[2, 4, 8, 16, 32],
            ratios=[0.5, 1.0, 2.0],
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
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=1024,
            featmap_strides=[16]),
        # res5 on the RoIs, one per box stage (C4 layout)
        stage_shared_heads=dict(
            type='ResStageHead', in_channels=1024, planes=512, num_blocks=3,
            block='bottleneck', stride=2,
            norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True,
            init_cfg=dict(
                type='Pretrained', checkpoint=pretrained, prefix='layer4.')),
        # SeqNet: one box coder for both stages; the first stage's regression loss
        # weighs 10 (LW_PROPOSAL_REG), the second's 1
        bbox_head=[
            dict(
                type='BBoxHead',
                with_avg_pool=True,
                roi_feat_size=7,
                in_channels=2048,
                num_classes=1,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=[0.0, 0.0, 0.0, 0.0],
                    target_stds=[0.1, 0.1, 0.2, 0.2]),
                reg_class_agnostic=True,
                loss_cls=dict(
                    type='CrossEntropyLoss', use_sigmoid=False,
                    loss_weight=1.0),
                loss_bbox=dict(type='SmoothL1Loss', beta=1.0,
                               loss_weight=reg_weight))
            for reg_weight in (10.0, 1.0)
        ],
        # res5 and res4, max-pooled, 128 + 128 dimensions (CGPS, SeqNet);
        # population statistics of the scenes, of original-scale crops and of
        # each of the three scales (docs/method.md, "Normalisation")
        embedding_head=dict(
            type='ReIDEmbeddingHead', in_channels=2048, embed_dim=256,
            pooling='max', res4_channels=1024, num_domains=5)),
    exemplar_branch=dict(
        scales=[(112, 48), (224, 96), (448, 192)], with_original=True),
    loss_scale=dict(type='ScaleInvariantLoss', margin=0.3, gamma=0.05),
    loss_cluster=dict(
        type='ClusterContrastLoss', temperature=0.05, hard_negative_ratio=0.6,
        negative_selection='mass', normalize_centroids=False),
    # Eq. 11 sums over the q persons of the batch; delta as MMCL's
    loss_dml=dict(type='DynamicMultiLabelLoss', delta=5.0, reduction='sum'),
    # Eq. 8 at each iteration, as the paper states it (measured better than once
    # per epoch on SynthPS)
    multilabel_cadence='iteration',
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
                num=256,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(
            nms_pre=12000,
            max_per_img=2000,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
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
                debug=False) for _ in range(2)
        ]),
    # SeqNet's inference: score with the first stage, threshold 0.5 and NMS 0.4
    # between the stages, NMS 0.5 at the end, up to 300 persons per image
    test_cfg=dict(
        rpn=dict(
            nms_pre=6000,
            max_per_img=300,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            score_thr=0.5,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=300,
            stage_scores='first',
            inter_stage_nms=dict(
                score_thr=0.5, nms=dict(type='nms', iou_threshold=0.4),
                max_per_img=300))))
