# Table 8's OmniVec-1 (baseline): neither task grouping nor modality mixing — every batch from
# one dataset, all tasks in every epoch. The paper's OmniVec-1 is also pretrained "on single
# datasets": run stage 1 with --cfg-options train_dataloader.sampler.mode=one_source for it.
_base_ = ['./omnivec-3_vit-base-p16_omnivec-mae-pre_8xb64-amp-900e_multitask.py']

train_dataloader = dict(sampler=dict(mode='one_source'))
