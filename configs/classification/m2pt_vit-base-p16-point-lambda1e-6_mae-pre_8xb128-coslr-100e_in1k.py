# Paper Table 5 ablation: Cross-Modal Scale λ initialised to 1e-6 instead of 0.
_base_ = './m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(pathway=dict(scale_init=1e-6)))
