# Baseline of the "fix acc" column of paper Table 1: the MAE-pretrained backbone is frozen, only
# the classifier trains (mmpretrain's frozen_stages; fix_weights needs a pathway).
_base_ = './vit-base-p16_mae-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(frozen_stages=12))
