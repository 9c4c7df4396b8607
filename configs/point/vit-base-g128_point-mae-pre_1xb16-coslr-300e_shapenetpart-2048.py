# Baseline, pretrained setting on ShapeNetPart (Table 2: Point-MAE 84.2 / 86.1 class / instance
# mIoU): the point ViT-B initialised from Point-MAE pretraining, fine-tuned with Point-MAE's
# recipe. No pathway. The target checkpoint is a Point-MAE `pretrain.pth` (`base_model` with
# `MAE_encoder.*`, read and converted by m2pt_mm.checkpoints) of a 768-wide, 12-block, 6-head
# encoder as in M2PT's point configs; the official 384-wide Point-MAE release does not fit this
# width (clear error).
_base_ = ['./_base_/partseg_vit-base-g128_1xb16-coslr-300e_shapenetpart-2048.py']

point_mae_checkpoint = 'checkpoints/point-mae_vit-base_shapenet-pretrain.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=point_mae_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=2, setting='pretrained', row='Point-MAE',
                      columns=['ShapeNetPart mIoU_C', 'ShapeNetPart mIoU_I'])
