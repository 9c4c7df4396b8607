# M2PT-Point, "fix acc" of paper Table 1: W and W′ frozen, only λ and the classifier train.
_base_ = './m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(fix_weights=True))
