# Tab. 2 SSL w/ one scale: crops resized to one size, background kept (no masks); labels from M_I.
_base_ = '../../ssl_prw.py'
model = dict(exemplar_branch=dict(scales=[(224, 96)], with_original=True))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize', scales=[(667, 400), (1000, 600), (1333, 800), (1500, 900), (1666, 1000), (2000, 1200)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPersonSearchInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=2),
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='instance',
        label_cfg={{_base_.pseudo_label_cfg}})
]
