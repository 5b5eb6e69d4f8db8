# Tab. 1 baseline + SL: the exemplar branch and the scale-invariant loss, no DML.
_base_ = '../../ssl_r50-c4_26e_prw.py'
model = dict(loss_dml=None)
