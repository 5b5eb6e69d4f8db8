# SynthPS: the synthetic person-search set mmssl renders itself (PRW layout plus
# ground-truth foreground masks). Rendered into data_root on first use.
dataset_type = 'SynthPSDataset'
data_root = 'data/synthps/'
render_cfg = dict(seed=0)
image_scale = (384, 256)  # (width, height): SynthPS frames as rendered

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True, with_fg_mask=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPersonSearchInputs')
]
# the crops keep their background: no foreground masks (the detector alone and the
# Tab. 2 unmasked ablations); otherwise train_pipeline
unmasked_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True)
] + train_pipeline[2:]
# annotations load before Resize: query boxes are embedded in resized coordinates
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='PackPersonSearchInputs')
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        render_cfg=render_cfg,
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        test_mode=True,
        render_cfg=render_cfg,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# cross_scale: also mAP/top-1 over queries matched across the paper's Fig. 7 scale classes
val_evaluator = dict(type='PersonSearchMetric', cross_scale=True)
test_evaluator = val_evaluator
