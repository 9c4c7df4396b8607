# Table 8's OmniVec-2: task grouping without modality mixing — the simple/dense alternation of
# OmniVec-4, but every batch comes from one dataset, drawn with the same proportions (§3.2's
# alternative: "construct mini-batches from each dataset separately") — from the one-source masked
# pretraining (no mixing in either stage), its own stage-1 run and file.
_base_ = ['./omnivec-4_vit-base-p16_omnivec-mae-pre_8xb64-amp-tg-900e_multitask.py']

__paper_rows__ = dict(paper='OmniVec', table=8, setting='ablation', row='OmniVec-2',
                      columns=['SSv2', 'ImageNet1K', 'Sun RGBD', 'ModelNet40'])

load_from = ('work_dirs/omnivec-mae_vit-base-p16_8xb64-amp-onesrc-2000e_multimodal/'
             'epoch_2000.pth')
train_dataloader = dict(sampler=dict(mode='one_source'))
