# SSL on CUHK-SYSU at the paper's settings (gallery size 100 reported; add sizes to
# val_dataloader.dataset.gallery_sizes for the Fig. 6 sweep).
_base_ = './ssl_r50-c4_26e_prw.py'
train_dataloader = dict(
    dataset=dict(type='CUHKSYSUDataset', data_root='data/CUHK-SYSU/'))
val_dataloader = dict(
    dataset=dict(
        type='CUHKSYSUDataset',
        data_root='data/CUHK-SYSU/',
        gallery_sizes=(100, )))
test_dataloader = dict(
    dataset=dict(
        type='CUHKSYSUDataset',
        data_root='data/CUHK-SYSU/',
        gallery_sizes=(50, 100, 500, 1000, 2000, 4000)))
