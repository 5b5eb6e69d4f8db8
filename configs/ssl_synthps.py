# Full SSL (paper Eq. 13: L_scale + L_cluster + L_DML + L_det) on SynthPS, sized
# for 2 CPU cores and trained from random init: the main job of README command 1.
_base_ = [
    './_base_/models/ssl_c4_tiny.py', './_base_/datasets/synthps.py',
    './_base_/schedules/schedule_synthps.py', './_base_/default_runtime.py'
]
# From random init with lr 0.02 the contrastive terms (temperature 0.05) would
# swamp the detection losses: they are weighted 0.1 here (1.0 in the paper configs).
model = dict(
    loss_cluster=dict(loss_weight=0.1),
    loss_dml=dict(loss_weight=0.1))
pseudo_label_cfg = dict(
    t_s=0.6, alpha=0.1, beta=-0.1,            # Eq. 9
    k1=30, k2=6,                              # k-reciprocal Jaccard
    eps=(0.68, 0.70, 0.72), min_samples=4)    # self-paced DBSCAN (CGPS)
custom_hooks = [
    dict(type='MemoryBankHook', batch_size=4),
    # random init: the first epochs learn detection and instance contrast
    dict(
        type='PseudoLabelHook',
        start_epoch=2,
        feature_source='combined',
        label_cfg=pseudo_label_cfg)
]
# one intra-op thread: robust on 2 shared cores (TorchThreadsHook docstring)
default_hooks = dict(torch_threads=dict(type='TorchThreadsHook', num_threads=1))
