# (b′) M2PT-Point with the ViTDet recipe (window attention + relative positions, test
# at 1024): the ViTDet MAE baseline next door plus the pathway (W′ = the point ViT-B/16, all four
# linears, λ from 0). Not a paper row: the paper's COCO numbers correspond to the plain
# ./mask-rcnn_m2pt-vit-base-p16-point_mae-pre_16xb4-amp-lsj-100e_coco.py.
# Video / audio W′: the same over the MAE variant with their aux_checkpoint (as the plain
# siblings, e.g. ./mask-rcnn_m2pt-vit-base-p16-video_mae-pre_16xb4-amp-lsj-100e_coco.py).
_base_ = './mask-rcnn_vit-base-p16-win14-relpos_mae-pre_16xb4-amp-lsj-100e_coco.py'

# auxiliary W′: see the README table "Checkpoints" for which public file goes here
aux_checkpoint = 'checkpoints/m2pt/point_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
