# SSL on PRW at the paper's settings (Sec. 4.2): ResNet-50 C4 with ImageNet init,
# batch 2, SGD lr 0.001, 26 epochs (steps at 16 and 22), test scale 1500x900,
# exemplar scales 112x48, 224x96, 448x192 plus the original crop, masked.
_base_ = [
    './_base_/models/ssl_r50_c4.py', './_base_/datasets/prw.py',
    './_base_/schedules/schedule_26e.py', './_base_/default_runtime.py'
]
pseudo_label_cfg = dict(
    t_s=0.6, alpha=0.1, beta=-0.1,
    k1=30, k2=6,
    eps=(0.68, 0.70, 0.72), min_samples=4)
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=2, num_workers=4),
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='combined',
        label_cfg=pseudo_label_cfg)
]
default_hooks = dict(checkpoint=dict(save_best='search/mAP', rule='greater'))
