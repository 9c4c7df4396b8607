# (d) From-scratch setting, M2PT-Point (paper Table 1: 46.2 → 48.9 AP_box): the merged M2PT-Point
# classifier trained from scratch on ImageNet (configs/classification/
# m2pt_vit-base-p16-point_scratch_16xb64-300e_in1k.py → its `*_deploy.pth`), then transferred.
_base_ = './_base_/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'

m2pt_classifier = 'checkpoints/m2pt/m2pt_vit-base-p16-point_scratch_in1k_deploy.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=m2pt_classifier)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='from-scratch', row='M2PT-Point',
                      columns=['AP box', 'AP mask'])
