# ModelNet40 classification, Point-MAE's fine-tuning recipe (Pang-Yatian/Point-MAE
# cfgs/finetune_modelnet.yaml and tools/builder.py), on the point ViT-B of M2PT's point configs.
# Primitive of the classification configs in this folder: a plain ViT from scratch.
_base_ = ['../../_base_/mmpretrain_runtime.py']  # + m2pt_mm imports and hooks

max_epochs = 300  # max_epoch 300
warmup_epochs = 10  # CosLR initial_epochs 10
num_points = 1024  # npoints 1024
data_root = 'data/modelnet40_normal_resampled'

model = dict(
    type='ImageClassifier',  # any (B, N, 3) tensor passes mmpretrain's classifier unchanged
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=40),  # no normalisation
    backbone=dict(
        type='M2PTVisionTransformer',
        # 768 wide, 12 deep, 6 heads as M2PT's point configs (ViT-B aux weights fit)
        arch=dict(embed_dims=768, num_layers=12, num_heads=6, feedforward_channels=3072),
        tokenizer=dict(type='PointTokenizer', num_groups=64, group_size=32),  # 1024 pts: 64 × 32
        qkv_bias=False,  # Point-MAE's blocks: no qkv bias, LayerNorm eps 1e-5
        norm_cfg=dict(type='LN', eps=1e-5),
        drop_path_rate=0.1,
        with_cls_token=True,  # Point-MAE's PointTransformer: cls_token + cls_pos
        out_type='cls_max'),  # concat(class token, max over the groups): [B, 2D]
    neck=None,
    head=dict(
        # Point-MAE's cls_head_finetune: Linear(2D,256)-BN-ReLU-Dropout(.5) ×2 (256, 256), then
        # Linear(256, classes); mmpretrain's LinearBlock is exactly fc → norm → act → dropout
        type='StackedLinearClsHead',
        num_classes=40,
        in_channels=2 * 768,
        mid_channels=[256, 256],
        dropout_rate=0.5,
        norm_cfg=dict(type='BN1d'),
        act_cfg=dict(type='ReLU'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),  # plain CE, no smoothing
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)))

train_pipeline = [
    dict(type='LoadPointCloud'),
    dict(type='PointNormalize'),
    # runner_finetune: FPS to 1200 points, then a random 1024 of them
    dict(type='PointSample', num_points=1200, method='fps'),
    dict(type='PointSample', num_points=num_points, method='random'),
    dict(type='PointScaleAndTranslate'),  # scale [2/3, 3/2] per axis, shift ±0.2
    dict(type='PackInputs', input_key='points'),
]
test_pipeline = [
    dict(type='LoadPointCloud'),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='fps'),  # validate: fps(points, 1024)
    dict(type='PackInputs', input_key='points'),
]
train_dataloader = dict(
    batch_size=32,  # total_bs 32
    num_workers=8,
    persistent_workers=True,
    drop_last=True,  # as Point-MAE's train loader; keeps BatchNorm batches > 1
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ModelNetDataset', data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ModelNetDataset', data_root=data_root, split='test',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))  # overall accuracy
test_evaluator = val_evaluator

# AdamW lr 5e-4, wd 0.05 without decay on 1-D parameters (norms, biases, λ) and tokens
# (tools/builder.py add_weight_decay); grad_norm_clip 10.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0., flat_decay_mult=0.,
                       custom_keys={'cls_token': dict(decay_mult=0.)}))
# CosLR: timm CosineLRScheduler(t_initial=300, warmup_t=10, warmup_lr_init=1e-6, lr_min=1e-6),
# stepped per epoch
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 5e-4, by_epoch=True, begin=0, end=warmup_epochs),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(interval=1, max_keep_ckpts=2, save_best='accuracy/top1', rule='greater'))

# the figure Point-MAE reports: its loop tests every epoch and keeps the best accuracy, so the
# guide and the config run test evaluate the best checkpoint
__paper_test__ = dict(checkpoint='best')
