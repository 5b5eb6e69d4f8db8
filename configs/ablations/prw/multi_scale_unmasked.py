# Tab. 2 SSL w/ multi-scale, background kept (no masks); labels from M_I.
_base_ = '../../ssl_r50-c4_26e_prw.py'
train_pipeline = {{_base_.unmasked_train_pipeline}}
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# the fill pass at the test scale, without masks either
memory_fill_pipeline = {{_base_.unmasked_memory_fill_pipeline}}
custom_hooks = [{{_base_.unmasked_memory_bank_hook}}, {{_base_.instance_label_hook}}]
