# M2PT-Video on ModelNet40: the pretrained baseline plus a Multimodal Pathway in every block
# linear, W′ from the M2PT zoo video ViT-B/16 (VideoMAE-pretrained); λ starts at 0 and is learnt.
_base_ = ['./vit-base-g64_point-mae-pre_1xb32-coslr-300e_modelnet40-1024.py']

aux_checkpoint = 'checkpoints/m2pt/video_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
