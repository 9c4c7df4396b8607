# `make demo`, stage 1: MAE pretraining of the auxiliary model, a tiny ViT of the target's depth and
# width (4 blocks × 64 dims, 4 heads, MLP 128, 8×8 patches), on 32×32 one-channel log-mel
# spectrograms of synthetic clips (tools/data/synth_spectrograms.py): audio seen as images, as
# AudioMAE does. Only the block linears are transferred to the target, so the one-channel
# tokenizer does not have to match the target's RGB one.
# Override with --cfg-options:
#   train_dataloader.dataset.data_root=DIR   the flat folder of spectrogram PNGs
#   train_cfg.max_epochs=N, randomness.seed=S
_base_ = [
    'mmpretrain::_base_/models/mae_vit-base-p16.py',
    '../_base_/mmpretrain_runtime.py',  # + m2pt_mm imports and hooks
    '../_base_/tiny_cpu_run.py',
]

max_epochs = 20
warmup_epochs = 2

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.tiny_arch),
        img_size=32,
        patch_size=8,
        patch_cfg=dict(in_channels=1),
        mask_ratio=0.75),
    neck=dict(
        num_patches=16,
        patch_size=8,
        in_chans=1,
        embed_dim=64,
        decoder_embed_dim=64,
        decoder_depth=2,
        decoder_num_heads=4),
    head=dict(patch_size=8, in_channels=1))

data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[127.5], std=[127.5], to_rgb=False)

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    **_base_.tiny_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset',
        data_root='work_dirs/demo/data/spectrograms',
        with_label=False,
        pipeline=train_pipeline))

# mmpretrain's MAE recipe (AdamW, betas 0.95, no decay on norms, biases and tokens; linear warmup
# then cosine), without AMP (CPU) and with a learning rate for batch 64 and few epochs
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(
        custom_keys={
            'ln': dict(decay_mult=0.0),
            'bias': dict(decay_mult=0.0),
            'pos_embed': dict(decay_mult=0.),
            'mask_token': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.)
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)

default_hooks = _base_.tiny_hooks
randomness = _base_.tiny_randomness
