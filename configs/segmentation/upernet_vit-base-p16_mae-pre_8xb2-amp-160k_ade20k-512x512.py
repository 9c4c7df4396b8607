# (a) MAE baseline of paper Table 1 (ADE20K 46.1 mIoU): the MAE-pretrained ViT-B/16
# (facebookresearch/mae `mae_pretrain_vit_base.pth`, read as is), no pathway.
_base_ = './_base_/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

mae_checkpoint = 'checkpoints/mae_pretrain_vit_base.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=mae_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='pretrained', row='MAE*', columns=['ADE20K mIoU'])
