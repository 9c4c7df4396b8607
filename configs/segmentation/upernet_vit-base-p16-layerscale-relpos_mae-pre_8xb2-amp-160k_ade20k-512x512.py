# (a′) MAE baseline with mmseg's MAE backbone options (layer scale 1.0 + relative position bias;
# see the base). Not the paper's row: Table 1's 46.1 mIoU corresponds to the plain
# ./upernet_vit-base-p16_mae-pre_8xb2-amp-160k_ade20k-512x512.py.
_base_ = './_base_/upernet_vit-base-p16-layerscale-relpos_8xb2-amp-160k_ade20k-512x512.py'

mae_checkpoint = 'checkpoints/mae_pretrain_vit_base.pth'

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=mae_checkpoint)))
