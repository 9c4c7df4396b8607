# OmniVec fine-tuning at the paper's scale, Table 13's AudioSet (A) row: the OmniVec-4 network
# fine-tuned on AudioSet-2M (train_all.json, the masked pretraining's train set) and scored with
# mAP on the eval set (eval.json, AudioMAE's layout), as the paper's "mAP". The audio encoder,
# projection, meta tokens, trunk and vectorizer come from stage 2 (load_from); the 527-class
# multi-label head is new. The recipe is the ImageNet fine-tuning's (inherited; the paper gives
# none); BCE per class as AudioMAE.
_base_ = ['./omnivec_vit-base-p16_omnivec-4-pre_8xb64-amp-100e_in1k.py']

__paper_rows__ = dict(paper='OmniVec', table=13, setting='fine-tuned', row='OmniVec',
                      columns=['AudioSet (A) mAP'])

model = dict(
    encoders=dict(_delete_=True, audio=dict(
        depth=_base_.encoder_depth,
        tokenizer=dict(type='AudioTokenizer', num_frames=1024, num_mel_bins=128,
                       patch_size=16))),
    heads=dict(_delete_=True, audioset_cls=dict(
        type='MultiLabelLinearClsHead', modality='audio', num_classes=527,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True))))

audioset = dict(modality='audio', task='audioset_cls', task_group='simple')
train_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, audioset=dict(dataset={{_base_.audioset_train}}, **audioset))))
val_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True,
    audioset=dict(dataset=dict(_base_.audioset_train, ann_file='eval.json'), **audioset))))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='AveragePrecision')  # mAP over the 527 classes
test_evaluator = val_evaluator
