# The MAE fine-tuning recipe for ViT-L/16 (He et al. 2022, Table 9): as the ViT-B/16 base, with
# the changes mmpretrain's `mae/benchmarks/vit-large-p16_8xb128-coslr-50e_in1k.py` makes to its
# ViT-B config, and only those: arch large (24 blocks × 1024), drop path 0.2, lr 4e-3
# (blr 1e-3 × 1024 / 256), layer decay 0.75, 50 epochs (5 warm-up). No pathway.
_base_ = './mae-ft_vit-base-p16_8xb128-coslr-100e_in1k.py'

# target W: MAE-pretrained ViT-L/16 (facebookresearch/mae `mae_pretrain_vit_large.pth`, as is)
mae_checkpoint = 'checkpoints/mae_pretrain_vit_large.pth'

model = dict(
    backbone=dict(arch='large', drop_path_rate=0.2, init_cfg=dict(checkpoint=mae_checkpoint)),
    head=dict(in_channels=1024))

optim_wrapper = dict(optimizer=dict(lr=4e-3), paramwise_cfg=dict(layer_decay_rate=0.75))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=45, by_epoch=True, begin=5, end=50, eta_min=1e-6,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=50)
