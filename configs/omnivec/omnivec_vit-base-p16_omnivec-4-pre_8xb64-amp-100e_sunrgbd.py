# OmniVec fine-tuning at the paper's scale, Table 13's Sun RGBD row: the OmniVec-4 network
# fine-tuned on SUN RGB-D scene classification (19 classes as Omnivore, the RGB-D lists of
# DepthImageDataset; train.txt → test.txt, top-1). The depth encoder, projection, meta tokens,
# trunk, vectorizer and the sunrgbd_cls head come from stage 2 (load_from). The recipe is the
# ImageNet fine-tuning's (inherited; the paper gives none).
_base_ = ['./omnivec_vit-base-p16_omnivec-4-pre_8xb64-amp-100e_in1k.py']

__paper_rows__ = dict(paper='OmniVec', table=13, setting='fine-tuned', row='OmniVec',
                      columns=['Sun RGBD top-1'])

model = dict(
    encoders=dict(_delete_=True, depth=dict(
        depth=_base_.encoder_depth,
        tokenizer=dict(type='ImageTokenizer', in_channels=4, img_size=224, patch_size=16))),
    heads=dict(_delete_=True, sunrgbd_cls=dict(type='LinearClsHead', modality='depth',
                                               num_classes=19)))

sunrgbd = dict(modality='depth', task='sunrgbd_cls', task_group='simple')
train_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, sunrgbd=dict(dataset={{_base_.sunrgbd_train}}, **sunrgbd))))
val_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, sunrgbd=dict(dataset={{_base_.sunrgbd_val}}, **sunrgbd))))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator
