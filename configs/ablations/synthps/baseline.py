# Tab. 1 baseline: clusters + cluster contrast, no exemplar branch (no SL), no DML.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
model = dict(exemplar_branch=None, loss_scale=None, loss_dml=None)
