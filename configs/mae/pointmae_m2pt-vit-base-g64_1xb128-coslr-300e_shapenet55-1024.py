# The point auxiliary model of the paper ("pretrained with Point-MAE on ShapeNet", §4.1),
# Point-MAE's recipe (Pang-Yatian/Point-MAE, cfgs/pretrain.yaml, datasets/ShapeNet55Dataset.py) at
# M2PT's point width: ShapeNet-55 train list, 1024 of each cloud's 8192 points drawn at random then
# normalised into the unit sphere; 64 groups of 32 (FPS + kNN), mini-PointNet tokens, MLP
# position embedding re-added before every block, no class token; random masking of 60% of the
# groups (mask_type 'rand'); L2 Chamfer distance on each masked group's 32 centre-relative
# points; AdamW lr 1e-3, wd 0.05, 10 warmup epochs then cosine, 300 epochs, batch 128, drop path
# 0.1, scale-and-translate augmentation.
# Width: M2PT's point models are Point-MAE with trans_dim 768 (12 blocks, 6 heads, as the
# fine-tuning configs in configs/point/), so that ViT-B weights of other modalities fit as aux.
# Decoder: Point-MAE ties it to trans_dim (its mask token, decoder position MLP and the
# increase_dim prediction Conv1d(trans_dim, 3 × 32) are trans_dim wide), so at 768 it is 768
# wide; decoder_depth 4 and decoder_num_heads 6 as pretrain.yaml.
# Differences from Point-MAE that remain: mmpretrain's decoder has a decoder_embed Linear
# (768 → 768; Point-MAE feeds the encoder tokens straight in), qkv biases and no drop path in
# its blocks.
# Table 6 (aux pretraining length): the epoch-20 and epoch-220 checkpoints are kept besides the
# rotating last three (keep_epochs); publish each with tools/model_converters/publish_model.py
# under the name the table's target config reads (configs/classification/*-point-ep*_*).
_base_ = ['../_base_/mmpretrain_runtime.py']

model = dict(
    type='M2PTMAE',
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),
    backbone=dict(
        type='M2PTMAEViT',
        arch=dict(embed_dims=768, num_layers=12, num_heads=6, feedforward_channels=3072),
        with_cls_token=False, mask_ratio=0.6, drop_path_rate=0.1,
        qkv_bias=False, norm_cfg=dict(type='LN', eps=1e-5),  # Point-MAE's blocks
        tokenizer=dict(type='PointTokenizer', num_groups=64, group_size=32)),
    neck=dict(
        type='M2PTMAEDecoder', grid=(64, ), num_extra_tokens=0, pos_embed='mlp',
        pos_every_block=True, embed_dim=768, decoder_embed_dim=768, decoder_depth=4,
        decoder_num_heads=6, mlp_ratio=4., norm_cfg=dict(type='LN', eps=1e-5),
        predict_feature_dim=3 * 32),
    head=dict(type='PointMAEHead', group_size=32, loss=dict(type='ChamferDistanceL2')))

train_pipeline = [
    dict(type='LoadPointCloud'),  # shapenet_pc/*.npy, (8192, 3)
    dict(type='PointSample', num_points=1024, method='random'),  # random_sample(pc, npoints)
    dict(type='PointNormalize'),  # pc_norm
    dict(type='PointScaleAndTranslate'),  # train_transforms in runner_pretrain.py
    dict(type='PackInputs', input_key='points'),
]
train_dataloader = dict(
    batch_size=128,  # total_bs 128
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    # ShapeNet55Dataset(whole=True) would add the test list, as Point-MAE's `whole` option
    dataset=dict(type='ShapeNet55Dataset', data_root='data/ShapeNet55-34', split='train',
                 pipeline=train_pipeline))

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
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3, keep_epochs=(20, 220)))
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=128)
