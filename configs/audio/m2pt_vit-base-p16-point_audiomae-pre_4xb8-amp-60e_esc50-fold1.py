# M2PT-Point on ESC-50 (not in the paper's tables): AudioMAE target, point ViT-B/16 auxiliary.
_base_ = './_base_/audiomae-ft_vit-base-p16_4xb8-amp-60e_esc50-fold1.py'

aux_checkpoint = 'checkpoints/m2pt/point_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
