# Tab. 2 SSL w/ multi-scale, background kept (no masks); labels from M_I.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPersonSearchInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=4, refresh_interval=1),
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='instance',
        label_cfg={{_base_.pseudo_label_cfg}})
]
