# The MAE fine-tuning recipe for ViT-H/14 (He et al. 2022, Table 9): as the ViT-L/16 base, with
# the changes mmpretrain's `mae/benchmarks/vit-huge-p14_8xb128-coslr-50e_in1k.py` makes to its
# ViT-L config, and only those: arch huge (32 blocks × 1280), 14 × 14 patches (a 16 × 16 grid
# at 224²), drop path 0.3. No pathway.
_base_ = './mae-ft_vit-large-p16_8xb128-coslr-50e_in1k.py'

# target W: MAE-pretrained ViT-H/14 (facebookresearch/mae `mae_pretrain_vit_huge.pth`, as is)
mae_checkpoint = 'checkpoints/mae_pretrain_vit_huge.pth'

model = dict(
    backbone=dict(arch='huge', patch_size=14, drop_path_rate=0.3,
                  init_cfg=dict(checkpoint=mae_checkpoint)),
    head=dict(in_channels=1280))
