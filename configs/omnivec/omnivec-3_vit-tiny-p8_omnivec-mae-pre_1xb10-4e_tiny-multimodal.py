# Table 8's OmniVec-3 at CPU size: modality mixing without task grouping — the tiny OmniVec-4
# with every batch drawn from all six sources (simple and dense tasks together) in every epoch —
# from the mixed stage-1 file, as OmniVec-4. Batches of 12, 2 per source: with 10 some sources
# would get 1 sample, and the part-segmentation head's batch norm cannot train on one.
_base_ = ['./omnivec-4_vit-tiny-p8_omnivec-mae-pre_1xb10-tg-4e_tiny-multimodal.py']

batch_size = 12
train_dataloader = dict(batch_size=batch_size, sampler=dict(batch_size=batch_size))
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=4, val_interval=4)
