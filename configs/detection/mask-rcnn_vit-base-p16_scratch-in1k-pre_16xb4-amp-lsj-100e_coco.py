# (d) From-scratch setting, baseline (paper Table 1: 46.2 AP_box): the ViT-B/16 trained from
# scratch on ImageNet (configs/classification/vit-base-p16_scratch_16xb64-300e_in1k.py), then
# transferred with the same detection recipe. No weights pretrained on anything else.
_base_ = './_base_/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'

scratch_classifier = 'checkpoints/m2pt/vit-base-p16_scratch_in1k.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=scratch_classifier)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='from-scratch', row='ViT', columns=['AP box', 'AP mask'])
