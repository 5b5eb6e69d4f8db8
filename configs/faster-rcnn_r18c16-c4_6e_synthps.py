# Detection only (the walking skeleton and the detector-only baseline): the SSL
# network without re-id parts, trained on SynthPS; reports detection AP/recall@0.5.
_base_ = [
    './_base_/models/ssl_r18c16_c4.py', './_base_/datasets/synthps.py',
    './_base_/schedules/schedule_synthps.py', './_base_/default_runtime.py'
]
model = dict(
    roi_head=dict(embedding_head=None),
    exemplar_branch=None,
    loss_scale=None,
    loss_cluster=None,
    loss_dml=None)
# no exemplar branch, so no foreground masks
train_pipeline = {{_base_.unmasked_train_pipeline}}
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# one intra-op thread: robust on 2 shared cores (TorchThreadsHook docstring)
default_hooks = dict(torch_threads=dict(type='TorchThreadsHook', num_threads=1))
