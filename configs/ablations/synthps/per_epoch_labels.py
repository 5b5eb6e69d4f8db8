# Full SSL with the dynamic multi-labels of Eq. 8 made once per epoch by
# PseudoLabelHook instead of at every iteration (the default, as the paper states):
# the cadence comparison of docs/benchmarks.md.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
model = dict(multilabel_cadence='epoch')
