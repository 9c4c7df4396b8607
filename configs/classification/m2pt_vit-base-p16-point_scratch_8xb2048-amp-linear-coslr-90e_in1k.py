# M2PT-Point from scratch, paper Table 1 "fix acc" (19.5): random W and the point ViT-B/16 W′
# frozen, λ (from 0) and the classifier train, with the probe of ./vit-base-p16_scratch_... .
_base_ = './vit-base-p16_scratch_8xb2048-amp-linear-coslr-90e_in1k.py'

# auxiliary W′: see the README table "Checkpoints" for which public file goes here
aux_checkpoint = 'checkpoints/m2pt/point_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint), **_base_.m2pt_probe))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='from-scratch', row='M2PT-Point', columns=['fix acc'])
