# Point-cloud aux/target pretraining, Point-MAE's recipe (Pang-Yatian/Point-MAE,
# cfgs/pretrain.yaml): 1024 points, 64 groups of 32 (FPS + kNN), mini-PointNet tokens, MLP
# position embedding re-added before every block, no class token; random masking of 60% of the
# groups (mask_type 'rand'); decoder 4 blocks, 6 heads, MLP positions of all centres; L2 Chamfer
# distance on each masked group's 32 centre-relative points; AdamW lr 1e-3, wd 0.05, 10 warmup
# epochs then cosine, 300 epochs, batch 128, drop path 0.1, scale-and-translate augmentation.
# Deviations: width 768 (M2PT's point models, so that ViT-B weights of other modalities fit as
# aux; Point-MAE is 384 wide — the decoder keeps Point-MAE's 384); ShapeNet-55 (Point-MAE's
# pretraining set, 8192-point .npy files) has no dataset class here yet, so this reads the
# ShapeNetPart release (ShapeNetCore objects, labels unused) — set the dataset for the real run.
_base_ = ['../_base_/mmpretrain_runtime.py']

model = dict(
    type='M2PTMAE',
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(
        type='M2PTMAEViT', arch='base', with_cls_token=False, mask_ratio=0.6, drop_path_rate=0.1,
        qkv_bias=False, norm_cfg=dict(type='LN', eps=1e-5),  # Point-MAE's blocks
        tokenizer=dict(type='PointTokenizer', num_groups=64, group_size=32)),
    neck=dict(
        type='M2PTMAEDecoder', grid=(64, ), num_extra_tokens=0, pos_embed='mlp',
        pos_every_block=True, embed_dim=768, decoder_embed_dim=384, decoder_depth=4,
        decoder_num_heads=6, mlp_ratio=4., norm_cfg=dict(type='LN', eps=1e-5),
        predict_feature_dim=3 * 32),
    head=dict(type='PointMAEHead', group_size=32, loss=dict(type='ChamferDistanceL2')))

train_pipeline = [
    dict(type='LoadPointCloud'),
    dict(type='PointSample', num_points=1024),
    dict(type='PointNormalize'),
    dict(type='PointScaleAndTranslate'),
    dict(type='PackInputs', input_key='points'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ShapeNetPartDataset',
                 data_root='data/shapenetcore_partanno_segmentation_benchmark_v0_normal',
                 split='trainval', pipeline=train_pipeline))

max_epochs = 300
warmup_epochs = 10
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    # Point-MAE's add_weight_decay: no decay on 1-D parameters (norms, biases) and tokens
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.,
                       custom_keys={'mask_token': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=128)
