# (b) M2PT-Audio on ADE20K, the pathway kept during segmentation fine-tuning: target W = the MAE
# ImageNet ViT-B/16, W′ = the audio ViT-B/16 in all four linears of every block, λ from 0, all
# trainable (paper Table 1 transfers M2PT-Point: 46.1 → 47.9 mIoU).
_base_ = './upernet_vit-base-p16_mae-pre_8xb2-amp-160k_ade20k-512x512.py'

# auxiliary W′: see the README table "Checkpoints" for which public file goes here
aux_checkpoint = 'checkpoints/m2pt/audio_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
