# M2PT-Point from scratch of paper Table 3 (11.4 vs. 11.0): random target W, the point ViT-B/16 as
# auxiliary model, the baseline's recipe (vit-base-p16_scratch_4xb8-amp-60e_audioset-2k.py).
_base_ = './vit-base-p16_scratch_4xb8-amp-60e_audioset-2k.py'

aux_checkpoint = 'checkpoints/m2pt/point_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=3, setting='from-scratch', row='M2PT-Point',
                      columns=['AudioSet-2k top-1'])
