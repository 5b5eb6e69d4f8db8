# Tab. 2 SSL w/ multi-scale, background kept (no masks); labels from M_I.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
train_pipeline = {{_base_.unmasked_train_pipeline}}
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=4, refresh_interval=1),
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='instance',
        label_cfg={{_base_.pseudo_label_cfg}})
]
