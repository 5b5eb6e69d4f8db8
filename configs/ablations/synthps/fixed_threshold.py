# Tab. 3 ML: multi-labels with a fixed threshold (alpha = 0 in Eq. 9), the dynamic
# threshold's value at epoch 0: the paper's 0.7, SynthPS's 0.9
# (fixed_threshold_label_hook of ssl_r18c16-c4_6e_synthps.py).
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
custom_hooks = [{{_base_.memory_bank_hook}}, {{_base_.fixed_threshold_label_hook}}]
