# OmniVec stage 1 at the paper's scale for Table 8's OmniVec-1 and -2 (§4.2: "OmniVec-1 uses
# masked pretraining on single datasets"; OmniVec-2 has no modality mixing either): the masked
# pretraining of omnivec-mae_vit-base-p16_8xb64-amp-2000e_multimodal.py with every batch from one
# source, in its own work dir, so that it never replaces the mixed stage-1 file OmniVec-3 and -4
# read. The paper does not say whether OmniVec-2's pretraining mixes; without mixing is the reading
# that changes one mechanism per variant.
_base_ = ['./omnivec-mae_vit-base-p16_8xb64-amp-2000e_multimodal.py']

train_dataloader = dict(sampler=dict(mode='one_source'))
