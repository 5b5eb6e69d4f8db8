# Tab. 3 ML: multi-labels with a fixed threshold (alpha = 0 in Eq. 9), the dynamic
# threshold's value at epoch 0: the paper's 0.7, SynthPS's 0.9 (ssl_r18c16-c4_6e_synthps.py).
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=4, refresh_interval=1),
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='combined',
        label_cfg=dict(
            t_s=0.9, alpha=0.0, beta=-0.1, k1=30, k2=6,
            eps=(0.38, 0.40, 0.42), min_samples=4))
]
