# The ViTDet / MAE COCO recipe of ./mask-rcnn_vit-base-p16_16xb4-lsj-100e_coco.py in mixed
# precision, as ViTDet trains it. Target init and pathway: children.
_base_ = './mask-rcnn_vit-base-p16_16xb4-lsj-100e_coco.py'

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
