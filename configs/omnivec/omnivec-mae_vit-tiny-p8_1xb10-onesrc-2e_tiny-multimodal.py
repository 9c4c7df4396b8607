# OmniVec stage 1 at CPU size for Table 8's OmniVec-1 and -2, which the paper pretrains "on single
# datasets": the tiny masked pretraining with every batch from one source (the sources in turn, in
# their proportions) instead of a uniform mix. Its own work dir, so a run of it never replaces the
# mixed stage-1 file that OmniVec-3 and -4 read.
# Next stages: omnivec-{1,2}_vit-tiny-p8_omnivec-mae-onesrc-pre_*.py.
_base_ = ['./omnivec-mae_vit-tiny-p8_1xb10-2e_tiny-multimodal.py']

train_dataloader = dict(sampler=dict(mode='one_source'))
