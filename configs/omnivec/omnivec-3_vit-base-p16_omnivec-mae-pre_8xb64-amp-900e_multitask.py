# Table 8's OmniVec-3: modality mixing without task grouping — every batch draws from all nine
# sources (simple and dense tasks together) for 900 epochs.
_base_ = ['./omnivec-4_vit-base-p16_omnivec-mae-pre_8xb64-amp-tg-900e_multitask.py']

__paper_rows__ = dict(paper='OmniVec', table=8, setting='ablation', row='OmniVec-3',
                      columns=['SSv2', 'ImageNet1K', 'Sun RGBD', 'ModelNet40'])

train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=900, val_interval=20)
