# Table 8's OmniVec-1 at CPU size: neither task grouping nor modality mixing — every batch from one
# source, all tasks in every epoch — from the one-source stage-1 file
# (omnivec-mae_vit-tiny-p8_1xb10-onesrc-2e_tiny-multimodal.py).
_base_ = ['./omnivec-3_vit-tiny-p8_omnivec-mae-pre_1xb10-4e_tiny-multimodal.py']

load_from = 'work_dirs/omnivec-mae_vit-tiny-p8_1xb10-onesrc-2e_tiny-multimodal/epoch_2.pth'
train_dataloader = dict(sampler=dict(mode='one_source'))
