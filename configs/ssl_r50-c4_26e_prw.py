# SSL on PRW at the paper's settings (Sec. 4.2): ResNet-50 C4 with ImageNet init,
# batch 2, SGD lr 0.001, 26 epochs (steps at 16 and 22), test scale 1500x900,
# exemplar scales 112x48, 224x96, 448x192 plus the original crop, masked; clustering
# as CGPS (the paper: "the hyperparameters are the same as [40]"), detection and
# inference as SeqNet. Every setting and its source: docs/configs.md.
_base_ = [
    './_base_/models/ssl_r50_c4.py', './_base_/datasets/prw.py',
    './_base_/schedules/schedule_26e.py', './_base_/default_runtime.py'
]
pseudo_label_cfg = dict(
    t_s=0.6, alpha=0.1, beta=-0.1,            # Eq. 9 (Sec. 4.2)
    k1=30, k2=6,                              # k-reciprocal Jaccard (CGPS)
    eps=(0.68, 0.70, 0.72), min_samples=4,    # self-paced DBSCAN (CGPS)
    same_image_rule=True)                     # CGPS's dbscan_context
# the banks are filled at the test scale, as CGPS fills its memory
memory_bank_hook = dict(
    type='MemoryBankHook', batch_size=2, num_workers=4,
    pipeline={{_base_.memory_fill_pipeline}})
pseudo_label_hook = dict(
    type='PseudoLabelHook', start_epoch=0, feature_source='combined',
    label_cfg=pseudo_label_cfg)
custom_hooks = [memory_bank_hook, pseudo_label_hook]
# The hooks of the ablations (configs/ablations/prw/), each one of the above with one
# setting changed. Tab. 2: labels from M_I alone; without masks, the fill pass too.
instance_label_hook = dict(pseudo_label_hook, feature_source='instance')
unmasked_memory_bank_hook = dict(
    memory_bank_hook, pipeline={{_base_.unmasked_memory_fill_pipeline}})
# Tab. 3 ML: a fixed threshold t = 0.7 (alpha = 0 in Eq. 9)
fixed_threshold_label_hook = dict(
    pseudo_label_hook, label_cfg=dict(pseudo_label_cfg, t_s=0.7, alpha=0.0))
# SeqNet's confidence-weighted similarity (the detection score is the first
# stage's, model.test_cfg.rcnn.stage_scores)
val_evaluator = dict(type='PersonSearchMetric', confidence_weighted=True)
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='search/mAP', rule='greater'))
