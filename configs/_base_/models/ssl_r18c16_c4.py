# The SSL network of ssl_r50_c4.py sized for a CPU: a ResNet-18-shaped backbone with
# 16 base channels (C4 layout: stages 1-3 in the backbone, a small res5 on the RoIs),
# smaller RoIs and exemplar scales, fewer proposals and samples. ImageNet weights
# cannot be had here: backbone and res5 start from the packaged SynthPS
# attribute-classification weights, loaded as the paper configs load
# torchvision://resnet50 (docs/pretraining.md), and, as there, their batch norms
# keep the pretrained statistics (norm_eval): no person's features depend on the
# other persons of its batch (docs/method.md, "Normalisation").
_base_ = './ssl_r50_c4.py'
pretrained = 'mmssl://synthps_r18c16_attributes'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
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
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(scales=[1, 2, 4, 8], ratios=[2.0, 3.0])),
    roi_head=dict(
        bbox_roi_extractor=dict(
            roi_layer=dict(output_size=8), out_channels=64),
        stage_shared_heads=dict(
            _delete_=True,
            type='ResStageHead', in_channels=64, planes=128, num_blocks=2,
            block='basic', stride=2, norm_cfg=norm_cfg, norm_eval=True,
            init_cfg=dict(
                type='Pretrained', checkpoint=pretrained, prefix='layer4.')),
        # Cascade R-CNN's per-stage box coders, equal regression weights
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
        # average-pooled res5 alone
        embedding_head=dict(
            _delete_=True,
            type='ReIDEmbeddingHead', in_channels=128, embed_dim=256,
            num_domains=5)),
    exemplar_branch=dict(scales=[(56, 24), (112, 48), (224, 96)]),
    loss_cluster=dict(_delete_=True, type='ClusterContrastLoss',
                      temperature=0.05, hard_negative_ratio=0.6),
    loss_dml=dict(_delete_=True, type='DynamicMultiLabelLoss'),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
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
    # stage scores averaged, no NMS between the stages
    test_cfg=dict(
        rpn=dict(nms_pre=600, max_per_img=150),
        rcnn=dict(
            _delete_=True,
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.4),
            max_per_img=50)))
