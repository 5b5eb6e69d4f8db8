# Tab. 2 SSL w/ original scale: only the unresized crop, background kept (no masks); labels from M_I.
# (the Tab. 2 settings of multi_scale_unmasked.py: no masks, labels from M_I)
_base_ = './multi_scale_unmasked.py'
model = dict(exemplar_branch=dict(scales=[], with_original=True))
