# OmniVec fine-tuning at the paper's scale, Table 13's ModelNet40 row: the OmniVec-4 network
# fine-tuned on ModelNet40 (modelnet40_normal_resampled, 2048 points, overall accuracy on the test
# split). The point encoder, projection, meta tokens, trunk, vectorizer and the modelnet_cls head
# come from stage 2 (load_from). The recipe is the ImageNet fine-tuning's (inherited; the paper
# gives none; Point-MAE's own ModelNet40 schedule is 300 epochs).
_base_ = ['./omnivec_vit-base-p16_omnivec-4-pre_8xb64-amp-100e_in1k.py']

__paper_rows__ = dict(paper='OmniVec', table=13, setting='fine-tuned', row='OmniVec',
                      columns=['ModelNet40 OA'])

model = dict(
    encoders=dict(_delete_=True, point=dict(
        depth=_base_.encoder_depth,
        tokenizer=dict(type='PointTokenizer', num_groups=128, group_size=32))),
    heads=dict(_delete_=True, modelnet_cls=dict(type='LinearClsHead', modality='point',
                                                num_classes=40)))

modelnet = dict(modality='point', task='modelnet_cls', task_group='simple')
train_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, modelnet=dict(dataset={{_base_.modelnet_train}}, **modelnet))))
val_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, modelnet=dict(dataset={{_base_.modelnet_val}}, **modelnet))))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator
