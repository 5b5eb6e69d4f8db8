# Full SSL (paper Eq. 13: L_scale + L_cluster + L_DML + L_det) on SynthPS, sized
# for 2 CPU cores: the main job of README command 1. Backbone and res5 start from
# the packaged SynthPS attribute-classification weights, the ImageNet stand-in
# (docs/pretraining.md), so, as in the paper, pseudo labels are made from epoch 0.
_base_ = [
    './_base_/models/ssl_c4_tiny.py', './_base_/datasets/synthps.py',
    './_base_/schedules/schedule_synthps.py', './_base_/default_runtime.py'
]
pseudo_label_cfg = dict(
    t_s=0.6, alpha=0.1, beta=-0.1,            # Eq. 9
    k1=30, k2=6,                              # k-reciprocal Jaccard
    eps=(0.68, 0.70, 0.72), min_samples=4)    # self-paced DBSCAN (CGPS)
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=4),
    dict(
        type='PseudoLabelHook',
        start_epoch=0,
        feature_source='combined',
        label_cfg=pseudo_label_cfg)
]
# one intra-op thread: robust on 2 shared cores (TorchThreadsHook docstring)
default_hooks = dict(torch_threads=dict(type='TorchThreadsHook', num_threads=1))
