# Tab. 3 ML: multi-labels with a fixed threshold t = 0.7 (alpha = 0 in Eq. 9).
_base_ = '../../ssl_r50-c4_26e_prw.py'
custom_hooks = [
    {{_base_.memory_bank_hook}},
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='combined',
        label_cfg=dict(
            t_s=0.7, alpha=0.0, beta=-0.1, k1=30, k2=6,
            eps=(0.68, 0.70, 0.72), min_samples=4, same_image_rule=True))
]
