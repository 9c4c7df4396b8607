# (a) MAE baseline of paper Table 1 (COCO 47.3 AP_box / 42.4 AP_mask): the MAE-pretrained ViT-B/16
# (facebookresearch/mae `mae_pretrain_vit_base.pth`, read as is), no pathway.
_base_ = './_base_/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'

mae_checkpoint = 'checkpoints/mae_pretrain_vit_base.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=mae_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='pretrained', row='MAE*', columns=['AP box', 'AP mask'])
