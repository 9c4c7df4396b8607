# Table 8's OmniVec-1 (baseline): neither task grouping nor modality mixing — every batch from one
# dataset, all tasks in every epoch — from the one-source masked pretraining (§4.2: "OmniVec-1 uses
# masked pretraining on single datasets"), its own stage-1 run and file.
_base_ = ['./omnivec-3_vit-base-p16_omnivec-mae-pre_8xb64-amp-900e_multitask.py']

__paper_rows__ = dict(paper='OmniVec', table=8, setting='ablation', row='OmniVec-1',
                      columns=['SSv2', 'ImageNet1K', 'Sun RGBD', 'ModelNet40'])

load_from = ('work_dirs/omnivec-mae_vit-base-p16_8xb64-amp-onesrc-2000e_multimodal/'
             'epoch_2000.pth')
train_dataloader = dict(sampler=dict(mode='one_source'))
