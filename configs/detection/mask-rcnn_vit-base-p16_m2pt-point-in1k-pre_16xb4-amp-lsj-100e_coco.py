# (c) Transfer of the merged M2PT-Point ImageNet classifier (configs/classification/
# m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py → its `*_deploy.pth`): a plain ViT
# whose W already holds W + λW′, so detection fine-tuning costs what the baseline costs.
_base_ = './_base_/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'

__reproduce_notes__ = [
    "This row starts from the merged M2PT-Point ImageNet-1K classifier: on top of MAE "
    "pretraining its backbone has had 100 epochs of supervised ImageNet-1K fine-tuning, which "
    "the MAE baseline row (`configs/detection/"
    "mask-rcnn_vit-base-p16_mae-pre_16xb4-amp-lsj-100e_coco.py`) does not have.",
    "Without those extra epochs, `configs/detection/"
    "mask-rcnn_m2pt-vit-base-p16-point_mae-pre_16xb4-amp-lsj-100e_coco.py`"
    " keeps the pathway during detection fine-tuning, starting from the MAE weights.",
]

# Not like for like with the MAE baseline: this start adds the classifier's 100 supervised
# ImageNet-1K epochs to MAE pretraining (the pathway-during-detection sibling does not).
m2pt_classifier = 'checkpoints/m2pt/m2pt_vit-base-p16-point_mae-pre_in1k_deploy.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=m2pt_classifier)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='pretrained', row='M2PT-Point',
                      columns=['AP box', 'AP mask'])
