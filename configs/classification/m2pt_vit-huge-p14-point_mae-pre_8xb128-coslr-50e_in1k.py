# M2PT-Point of paper Table 1 ("tune") at ViT-H/14: MAE ImageNet ViT-H/14 target + the point
# ViT-H of our Point-MAE pretraining at the same size as auxiliary model (the public M2PT point
# model is ViT-B), all four linears of every block, normal order, λ from 0, everything trainable.
# DDP on 8 GPUs; the sharded form is the `-fsdp2-` config (docs/sharded_training.md: memory).
_base_ = './_base_/mae-ft_vit-huge-p14_8xb128-coslr-50e_in1k.py'

# auxiliary W′: configs/mae/pointmae_m2pt-vit-huge-g64_1xb128-coslr-300e_shapenet55-1024.py
aux_checkpoint = 'checkpoints/m2pt/pointmae_vit-huge-g64_shapenet55.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
