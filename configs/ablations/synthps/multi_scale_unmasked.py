# Tab. 2 SSL w/ multi-scale, background kept (no masks); labels from M_I.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
train_pipeline = {{_base_.unmasked_train_pipeline}}
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [{{_base_.memory_bank_hook}}, {{_base_.instance_label_hook}}]
