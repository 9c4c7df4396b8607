# M2PT-Image on ModelNet40: the pretrained baseline plus a Multimodal Pathway in every block
# linear, W′ from the MAE ImageNet ViT-B/16 (facebookresearch/mae); λ starts at 0 and is learnt.
_base_ = ['./vit-base-g64_point-mae-pre_1xb32-coslr-300e_modelnet40-1024.py']

aux_checkpoint = 'checkpoints/mae_pretrain_vit_base.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
