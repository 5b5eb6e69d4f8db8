# Tab. 2 SSL w/ multi-scale, background kept (no masks); labels from M_I.
_base_ = '../../ssl_r50-c4_26e_prw.py'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize', scales=[(667, 400), (1000, 600), (1333, 800), (1500, 900), (1666, 1000), (2000, 1200)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPersonSearchInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# the fill pass at the test scale, without masks either
memory_fill_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1500, 900), keep_ratio=True),
    dict(type='PackPersonSearchInputs')
]
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=2, num_workers=4,
         pipeline=memory_fill_pipeline),
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='instance',
        label_cfg={{_base_.pseudo_label_cfg}})
]
