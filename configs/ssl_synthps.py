# Full SSL (paper Eq. 13) on SynthPS, sized for 2 CPU cores: the main job.
_base_ = [
    './_base_/models/ssl_c4_tiny.py', './_base_/datasets/synthps.py',
    './_base_/schedules/schedule_synthps.py', './_base_/default_runtime.py'
]

custom_hooks = [
    dict(type='MemoryBankHook', batch_size=4),
    dict(
        type='PseudoLabelHook',
        start_epoch=1,
        feature_source='combined',
        label_cfg=dict(
            t_s=0.6, alpha=0.1, beta=-0.1, k1=30, k2=6,
            eps=(0.68, 0.70, 0.72), min_samples=4))
]
