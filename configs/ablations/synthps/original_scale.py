# Tab. 2 SSL w/ original scale: only the unresized crop; labels from M_I.
_base_ = '../../ssl_synthps.py'
model = dict(exemplar_branch=dict(scales=[], with_original=True))
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=4),
    dict(
        type='PseudoLabelHook',
        start_epoch=2,
        feature_source='instance',
        label_cfg={{_base_.pseudo_label_cfg}})
]
