# Tab. 2 SSL w/ multi-scale and foreground masks (the paper's dagger); labels from M_I.
_base_ = '../../ssl_r18c16-c4_6e_synthps.py'
custom_hooks = [{{_base_.memory_bank_hook}}, {{_base_.instance_label_hook}}]
