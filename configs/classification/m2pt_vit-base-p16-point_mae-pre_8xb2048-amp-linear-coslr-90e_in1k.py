# M2PT-Point of paper Table 1, "fix acc" (67.8): MAE ImageNet target W and the point
# ViT-B/16 W′ frozen, λ (from 0) and the classifier train, with MAE's linear-probing recipe.
_base_ = './_base_/mae-linear_vit-base-p16_8xb2048-amp-coslr-90e_in1k.py'

# auxiliary W′: see the README table "Checkpoints" for which public file goes here
aux_checkpoint = 'checkpoints/m2pt/point_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint), **_base_.m2pt_probe))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='pretrained', row='M2PT-Point', columns=['fix acc'])
