# PRW (Zheng et al., CVPR 2017), official layout under data_root (docs/datasets.md).
# Masks: precomputed foreground masks under data_root/masks (docs/datasets.md);
# tools/misc/precompute_masks.py writes them.
dataset_type = 'PRWDataset'
data_root = 'data/PRW/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True, with_fg_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=[(667, 400), (1000, 600), (1333, 800), (1500, 900),
                (1666, 1000), (2000, 1200)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPersonSearchInputs')
]
# the crops keep their background: no foreground masks (the Tab. 2 unmasked
# ablations); otherwise train_pipeline
unmasked_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True)
] + train_pipeline[2:]
# annotations load before Resize: query boxes are embedded in resized coordinates
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1500, 900), keep_ratio=True),
    dict(type='PackPersonSearchInputs')
]

# the memory-bank fill pass (MemoryBankHook): every training box at the test scale,
# as CGPS fills its memory (configs/cgps/prw.py, train_cluster with val_pipeline)
memory_fill_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPersonSearchAnnotations', with_bbox=True, with_fg_mask=True),
    dict(type='Resize', scale=(1500, 900), keep_ratio=True),
    dict(type='PackPersonSearchInputs')
]
# the same pass without masks, for the unmasked ablations
unmasked_memory_fill_pipeline = unmasked_train_pipeline[:2] + memory_fill_pipeline[2:]

train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(type='PersonSearchMetric')
test_evaluator = val_evaluator
