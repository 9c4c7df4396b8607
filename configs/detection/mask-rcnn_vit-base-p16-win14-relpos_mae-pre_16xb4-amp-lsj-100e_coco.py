# (a′) MAE baseline with the ViTDet recipe (window attention + relative positions, test at 1024;
# see the base): ViTDet-B, 51.6 AP_box / 45.9 AP_mask in the ViTDet paper. The paper's Table 1
# baseline (47.3 / 42.4) is the plain ./mask-rcnn_vit-base-p16_mae-pre_16xb4-amp-lsj-100e_coco.py.
_base_ = './_base_/mask-rcnn_vit-base-p16-win14-relpos_16xb4-amp-lsj-100e_coco.py'

mae_checkpoint = 'checkpoints/mae_pretrain_vit_base.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=mae_checkpoint)))
