# Tiny M2PT audio classifier for tests and CPU demos: the structure of the AudioSet-2k configs
# (AudioTokenizer, mean pooling + fc_norm, multi-label head, BCE, mAP), at 4 blocks x 64 dims and
# 128 frames x 128 mel bins in 16x16 patches (8 x 8 tokens), trained from scratch on the synthetic
# AudioSet written by `python tools/data/synth_modalities.py data/tiny --sets audioset`.
# Auxiliary W′: the `make demo` MAE ViT (4 blocks x 64, configs/demo/mae_vit-tiny-p8_...): only its
# block linears are read, so its tokenizer (8x8 image patches) need not match.
# Override with --cfg-options:
#   model.backbone.pathway.aux_checkpoint=PATH      any supported layout, 4 blocks x 64 x MLP 128
#   train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR
#   test_dataloader.dataset.data_root=DIR           an AudioMAE-format AudioSet folder
_base_ = ['./_base_/audiomae-ft_vit-base-p16_4xb8-60e_audioset-2k.py']

data_root = 'data/tiny/audioset'
num_classes = 3  # synth_modalities.write_audioset's default
num_frames = 128
max_epochs = 20
warmup_epochs = 2

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=4, num_heads=4,
                  feedforward_channels=128),
        tokenizer=dict(num_frames=num_frames),
        drop_path_rate=0.,
        init_cfg=None,
        pathway=dict(aux_checkpoint='work_dirs/demo/aux_mae/epoch_20.pth')),
    head=dict(num_classes=num_classes, in_channels=64,
              init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.02)]),
    train_cfg=dict(_delete_=True))  # no Mixup: with 4 clips it would only blur the labels
data_preprocessor = dict(num_classes=num_classes)

fbank_stats = dict(mean=-4.2677393, std=4.5689974)
train_pipeline = [
    dict(type='LoadAudioFromFile', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128, target_length=num_frames),
    dict(type='SpecAugment', freqm=8, timem=16),  # AudioMAE's 48/192 scaled to 128 frames
    dict(type='NormalizeFbank', **fbank_stats),
    dict(type='PackInputs', input_key='fbank'),
]
test_pipeline = [
    dict(type='LoadAudioFromFile', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128, target_length=num_frames),
    dict(type='NormalizeFbank', **fbank_stats),
    dict(type='PackInputs', input_key='fbank'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False, drop_last=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=1e-3), paramwise_cfg=dict(layer_decay_rate=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-5, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_best=None))
visualizer = dict(vis_backends=[dict(type='LocalVisBackend')])
randomness = dict(seed=0, deterministic=False)
