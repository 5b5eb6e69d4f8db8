# Full SSL from random init: what the ImageNet stand-in is worth (docs/benchmarks.md).
# Without pretrained statistics, frozen batch norms would normalise nothing, so
# backbone and res5 use GroupNorm (per sample: no coupling between the persons of a
# batch, and it trains from scratch; Wu & He, "Group Normalization", ECCV 2018). The
# first two epochs learn detection and the instance contrast before pseudo labels;
# everything learns at the full rate of 0.02, and the contrastive terms are weighted
# 0.1 so that they do not swamp detection.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
scratch_norm = dict(type='GN', num_groups=8, requires_grad=True)
model = dict(
    backbone=dict(norm_cfg=scratch_norm, norm_eval=False, init_cfg=None),
    roi_head=dict(
        stage_shared_heads=dict(norm_cfg=scratch_norm, norm_eval=False,
                                init_cfg=None)),
    loss_cluster=dict(loss_weight=0.1),
    loss_dml=dict(loss_weight=0.1))
custom_hooks = [
    {{_base_.memory_bank_hook}},
    dict(type='PseudoLabelHook', start_epoch=2, feature_source='combined',
         label_cfg={{_base_.pseudo_label_cfg}})
]
optim_wrapper = dict(
    optimizer=dict(lr=0.02), paramwise_cfg=dict(_delete_=True),
    clip_grad=dict(max_norm=10.0))
