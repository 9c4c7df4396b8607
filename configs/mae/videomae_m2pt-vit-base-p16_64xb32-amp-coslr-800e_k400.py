# Video aux/target pretraining, VideoMAE's Kinetics-400 ViT-B recipe (MCG-NJU/VideoMAE,
# scripts/kinetics/videomae_vit_base_patch16_224_tubemasking_ratio_0.9_epoch_800/pretrain.sh +
# run_mae_pretraining.py defaults): 16 frames sampled every 4th, 224², 2 × 16 × 16 tubelets
# (8 × 14 × 14 = 1568 tokens), no class token, fixed sin-cos positions; tube masking 0.9 (one
# spatial mask for all time steps); decoder 384 wide, 4 blocks, 6 heads; L2 loss on normalised
# tubelet pixels (normlize_target=True); batch 64 GPUs × 32 = 2048 (8 nodes × 8 GPUs,
# --batch_size 32); AdamW betas 0.9/0.95, wd 0.05, no drop path; VideoMAE scales its base lr and
# min lr by total batch / 256: lr 1.5e-4 × 2048 / 256 = 1.2e-3, min lr 1e-5 × 8 = 8e-5; 40
# warm-up epochs from 0 (its cosine_scheduler starts the warm-up at 0, not at --warmup_lr), then
# per-iteration cosine, 800 epochs (the script passes --epochs 801).
# Deviation: VideoMAE crops with GroupMultiScaleCrop (scales 1, .875, .75, .66); here a random
# 224 crop of the 256-short-side clip plus flip.
_base_ = ['../_base_/mmpretrain_runtime.py']

model = dict(
    type='M2PTMAE',
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),  # clips are normalised by the pipeline
    backbone=dict(
        type='M2PTMAEViT', arch='base', with_cls_token=False, mask_ratio=0.9, mask_mode='tube',
        tokenizer=dict(type='VideoTokenizer', num_frames=16, img_size=224, patch_size=16,
                       tubelet_size=2)),
    neck=dict(
        type='M2PTMAEDecoder', grid=(8, 14, 14), num_extra_tokens=0, embed_dim=768,
        decoder_embed_dim=384, decoder_depth=4, decoder_num_heads=6, mlp_ratio=4.,
        predict_feature_dim=2 * 16 * 16 * 3),
    head=dict(type='M2PTMAEHead', norm_pix=True, patch_size=16, in_channels=3, tubelet_size=2,
              loss=dict(type='PixelReconstructionLoss', criterion='L2')),
    init_cfg=[dict(type='Xavier', layer='Linear', distribution='uniform'),
              dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)])

train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4),
    dict(type='PyAVDecode'),
    dict(type='VideoResize', short_side=256),
    dict(type='VideoCrop', crop_size=224, random_crop=True),
    dict(type='VideoFlip'),
    dict(type='VideoNormalize'),
    dict(type='PackInputs', input_key='imgs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='KineticsDataset', data_root='data/kinetics400',
                 ann_file='kinetics400_train_list_videos.txt', data_prefix='videos_train',
                 pipeline=train_pipeline))

batch_size = 64 * 32
max_epochs = 800
warmup_epochs = 40
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=1.5e-4 * batch_size / 256, betas=(0.9, 0.95),
                   weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.,
                       custom_keys={'mask_token': dict(decay_mult=0.)}))
param_scheduler = [
    # VideoMAE warms up from 0; mmengine's LinearLR needs a positive start factor
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min=1e-5 * batch_size / 256, by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=20, max_keep_ckpts=3))
randomness = dict(seed=0, diff_rank_seed=True)
auto_scale_lr = dict(base_batch_size=batch_size)
