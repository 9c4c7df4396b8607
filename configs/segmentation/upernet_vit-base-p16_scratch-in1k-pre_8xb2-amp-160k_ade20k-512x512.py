# (d) From-scratch setting, baseline (paper Table 1: 39.7 mIoU): the ViT-B/16 trained from scratch
# on ImageNet (configs/classification/vit-base-p16_scratch_16xb64-300e_in1k.py), transferred.
_base_ = './_base_/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

scratch_classifier = 'checkpoints/m2pt/vit-base-p16_scratch_in1k.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=scratch_classifier)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='from-scratch', row='ViT', columns=['ADE20K mIoU'])
