# M2PT-Point from scratch (paper Table 1): random target W, point ViT-B/16 as auxiliary model.
_base_ = './_base_/deit_vit-base-p16_16xb64-300e_in1k.py'

aux_checkpoint = 'checkpoints/m2pt/point_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='from-scratch', row='M2PT-Point', columns=['tune acc'])
