# Tab. 1 baseline + DML: dynamic multi-labels on M_I, no exemplar branch.
_base_ = '../../ssl_r50-c4_26e_prw.py'
model = dict(exemplar_branch=None, loss_scale=None)
