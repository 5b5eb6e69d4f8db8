# Tab. 3 ML: multi-labels with a fixed threshold t = 0.7 (alpha = 0 in Eq. 9):
# fixed_threshold_label_hook of ssl_r50-c4_26e_prw.py.
_base_ = '../../ssl_r50-c4_26e_prw.py'
custom_hooks = [{{_base_.memory_bank_hook}}, {{_base_.fixed_threshold_label_hook}}]
