# CPU schedule for SynthPS: SGD, linear warm-up, one step decay. Backbone and res5
# start from pretrained weights and learn at a tenth of the rate of the new heads
# (RPN, box heads, the embedding projection), as fine-tuning does; the detection
# heads need the full rate to learn in 6 epochs, the pretrained features forget
# what they know about persons at it (docs/benchmarks.md, "Settings measured and
# not kept").
max_epochs = 6
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=200),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[5],
        gamma=0.1)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={
        'backbone': dict(lr_mult=0.1),
        'stage_shared_heads': dict(lr_mult=0.1)
    }),
    # healthy steps have gradient norms of about 15-25; when the contrastive terms
    # run away (stage-2 box loss and multi-label positives growing together) they
    # reach 35-75, and a clip at 20 kept that run healthy (docs/benchmarks.md,
    # "A runaway, and the gradient clip")
    clip_grad=dict(max_norm=20.0, norm_type=2))

auto_scale_lr = dict(enable=False, base_batch_size=2)
