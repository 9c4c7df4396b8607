# (b) M2PT-Video on COCO, the pathway kept during detection fine-tuning: target W = the MAE
# ImageNet ViT-B/16, W′ = the video ViT-B/16 in all four linears of every block, λ from 0, all
# trainable (paper Table 1 transfers M2PT-Point: 47.3 → 50.0 AP_box, 42.4 → 44.0 AP_mask).
_base_ = './mask-rcnn_vit-base-p16_mae-pre_16xb4-amp-lsj-100e_coco.py'

# auxiliary W′: see the README table "Checkpoints" for which public file goes here
aux_checkpoint = 'checkpoints/m2pt/video_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
