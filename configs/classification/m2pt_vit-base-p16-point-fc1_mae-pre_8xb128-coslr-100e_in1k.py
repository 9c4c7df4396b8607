# Paper Table 5 ablation: re-parameterise only the fc1 linear of each block.
_base_ = './m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(pathway=dict(layers=['fc1'])))
