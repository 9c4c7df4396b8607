# (c) Transfer of the merged M2PT-Point ImageNet classifier (configs/classification/
# m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py → its `*_deploy.pth`): a plain ViT
# whose W already holds W + λW′, so segmentation fine-tuning costs what the baseline costs.
_base_ = './_base_/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

m2pt_classifier = 'checkpoints/m2pt/m2pt_vit-base-p16-point_mae-pre_in1k_deploy.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=m2pt_classifier)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='pretrained', row='M2PT-Point', columns=['ADE20K mIoU'])
