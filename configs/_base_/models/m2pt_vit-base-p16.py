# M2PT ViT-B/16 image classifier (mmpretrain ImageClassifier).
# Target W: set `init_cfg` of the backbone to an MAE checkpoint for the *pretrained* setting;
# leave it unset for *from-scratch*. W′: `pathway.aux_checkpoint` (any supported layout).
# `custom_imports` of m2pt_mm come with ../default_runtime.py.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='M2PTVisionTransformer',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        tokenizer=dict(type='ImageTokenizer'),
        pathway=dict(
            aux_checkpoint=None,
            layers=['qkv', 'proj', 'fc1', 'fc2'],  # paper Table 5: all four is best
            order='normal',
            scale_init=0.,  # paper Table 5: λ must start at 0
            scale_trainable=True,
            aux_trainable=True)),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
