# Tab. 2 SSL w/ multi-scale and foreground masks (the paper's dagger); labels from M_I.
_base_ = '../../ssl_r50-c4_26e_prw.py'
custom_hooks = [
    {{_base_.memory_bank_hook}},
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='instance',
        label_cfg={{_base_.pseudo_label_cfg}})
]
