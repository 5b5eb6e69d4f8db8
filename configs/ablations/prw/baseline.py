# Tab. 1 baseline: clusters + cluster contrast, no exemplar branch (no SL), no DML.
_base_ = '../../ssl_r50-c4_26e_prw.py'
model = dict(exemplar_branch=None, loss_scale=None, loss_dml=None)
