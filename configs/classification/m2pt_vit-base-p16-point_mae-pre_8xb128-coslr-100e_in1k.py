# M2PT-Point of paper Table 1: MAE ImageNet target + the point ViT-B/16 as auxiliary model,
# all four linears of every block, normal order, λ from 0, everything trainable ("tune").
_base_ = './_base_/mae-ft_vit-base-p16_8xb128-coslr-100e_in1k.py'

# auxiliary W′: see the README table "Checkpoints" for which public file goes here
aux_checkpoint = 'checkpoints/m2pt/point_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = [
    dict(table=1, setting='pretrained', row='M2PT-Point', columns=['tune acc']),
    dict(table=5, setting='ablation', row='all four, λ₀=0, learnable', columns=['top-1'])]
