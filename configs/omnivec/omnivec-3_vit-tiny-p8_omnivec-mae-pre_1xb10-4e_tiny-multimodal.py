# Table 8's OmniVec-3 at CPU size: modality mixing without task grouping — the tiny OmniVec-4
# with every batch drawn from all eight sources (simple and dense tasks together) in every epoch —
# from the mixed stage-1 file, as OmniVec-4.
_base_ = ['./omnivec-4_vit-tiny-p8_omnivec-mae-pre_1xb10-tg-4e_tiny-multimodal.py']

train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=4, val_interval=4)
