# M2PT ViT-B/16 image classifier (mmpretrain ImageClassifier), plain: no pathway (the backbone's
# default `pathway=None`). Target W: set `init_cfg` of the backbone to an MAE checkpoint for the
# *pretrained* setting; leave it unset for *from-scratch*. An M2PT config adds the pathway in one
# line, `model = dict(backbone=dict(pathway=dict(aux_checkpoint=...)))`: the defaults (all four
# linears, normal order, λ from 0, everything trainable) are the paper's best (Table 5).
# `custom_imports` of m2pt_mm come with ../mmpretrain_runtime.py.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='M2PTVisionTransformer',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        tokenizer=dict(type='ImageTokenizer')),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
