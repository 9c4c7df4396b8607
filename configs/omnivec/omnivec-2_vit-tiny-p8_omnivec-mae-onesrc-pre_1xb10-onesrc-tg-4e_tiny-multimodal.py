# Table 8's OmniVec-2 at CPU size: task grouping without modality mixing — the tiny OmniVec-4's
# simple/dense alternation with every batch from one source — from the one-source stage-1 file
# (omnivec-mae_vit-tiny-p8_1xb10-onesrc-2e_tiny-multimodal.py).
_base_ = ['./omnivec-4_vit-tiny-p8_omnivec-mae-pre_1xb10-tg-4e_tiny-multimodal.py']

load_from = 'work_dirs/omnivec-mae_vit-tiny-p8_1xb10-onesrc-2e_tiny-multimodal/epoch_2.pth'
train_dataloader = dict(sampler=dict(mode='one_source'))
