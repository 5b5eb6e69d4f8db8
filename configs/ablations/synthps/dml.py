# Tab. 1 baseline + DML: dynamic multi-labels on M_I, no exemplar branch.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
model = dict(exemplar_branch=None, loss_scale=None)
