# Tab. 2 SSL w/ multi-scale, background kept (no masks); labels from M_I.
_base_ = '../../ssl_r50-c4_26e_prw.py'
train_pipeline = {{_base_.unmasked_train_pipeline}}
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# the fill pass at the test scale, without masks either
memory_fill_pipeline = {{_base_.unmasked_memory_fill_pipeline}}
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=2, num_workers=4,
         pipeline=memory_fill_pipeline),
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='instance',
        label_cfg={{_base_.pseudo_label_cfg}})
]
