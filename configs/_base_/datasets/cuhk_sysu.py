# CUHK-SYSU (Xiao et al., CVPR 2017), official layout under data_root
# (docs/datasets.md). The reported protocol is gallery 100; add sizes to sweep (paper Fig. 6).
_base_ = './prw.py'
dataset_type = 'CUHKSYSUDataset'
data_root = 'data/CUHK-SYSU/'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, gallery_sizes=(100, )))
test_dataloader = val_dataloader
