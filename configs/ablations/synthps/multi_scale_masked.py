# Tab. 2 SSL w/ multi-scale and foreground masks (the paper's dagger); labels from M_I.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=4, refresh_interval=1),
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='instance',
        label_cfg={{_base_.pseudo_label_cfg}})
]
