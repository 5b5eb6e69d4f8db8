# The paper's schedule (Sec. 4.2): SGD lr 0.001, momentum 0.9, weight decay 5e-4,
# batch 2, 26 epochs, lr x0.1 at epochs 16 and 22; CGPS's warm-up (2242 iterations
# from 1/200 of the rate) and gradient clipping (norm 10). Sources: docs/configs.md.
max_epochs = 26
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=max_epochs, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 200, by_epoch=False, begin=0,
         end=2242),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[16, 22],
        gamma=0.1)
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=10.0, norm_type=2))

auto_scale_lr = dict(enable=False, base_batch_size=2)
