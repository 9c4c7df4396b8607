# mmseg's MAE ADE20K recipe of ./upernet_vit-base-p16_8xb2-160k_ade20k-512x512.py in mixed
# precision. mmseg's own `...-amp-...` config only sets the mmcv-1.x key `fp16`, which mmengine
# does not read: mixed precision is really switched on here. Target init and pathway: children.
_base_ = './upernet_vit-base-p16_8xb2-160k_ade20k-512x512.py'

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
