# Tab. 1 baseline + SL: the exemplar branch and the scale-invariant loss, no DML.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
model = dict(loss_dml=None)
