# M2PT-Video, from-scratch setting on ModelNet40: random target W, W′ from the M2PT zoo video
# ViT-B/16 (VideoMAE-pretrained), λ from 0.
_base_ = ['./vit-base-g64_scratch_1xb32-coslr-300e_modelnet40-1024.py']

aux_checkpoint = 'checkpoints/m2pt/video_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
