# Tiny M2PT audio classifier for tests and CPU demos: the structure of the AudioSet-2k configs
# (AudioTokenizer, mean pooling + fc_norm, multi-label head, BCE, mAP) and AudioMAE's fine-tuning
# augmentations (roll + magnitude, waveform mixup, token masking -> 6 x 6 of the 8 x 8 tokens,
# frozen sin-cos table), at 4 blocks x 64 dims and 128 frames x 128 mel bins in 16x16 patches,
# trained from scratch on the synthetic AudioSet written by
# `python tools/data/synth_modalities.py data/tiny --sets audioset`. fp32: mmengine's AMP wrapper
# needs a GPU, so this inherits the recipe's fp32 base.
# Auxiliary W′: the `make demo` MAE ViT (4 blocks x 64, configs/demo/mae_vit-tiny-p8_...): only its
# block linears are read, so its tokenizer (8x8 image patches) need not match.
# Override with --cfg-options:
#   model.backbone.pathway.aux_checkpoint=PATH      any supported layout, 4 blocks x 64 x MLP 128
#   train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR
#   test_dataloader.dataset.data_root=DIR           an AudioMAE-format AudioSet folder
_base_ = [
    './_base_/audiomae-ft_vit-base-p16_4xb8-60e_audioset-2k.py',
    '../_base_/tiny_cpu_run.py',
]

data_root = 'data/tiny/audioset'
num_classes = 3  # synth_modalities.write_audioset's default
num_frames = 128
max_epochs = 20
warmup_epochs = 2

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.tiny_arch),
        tokenizer=dict(num_frames=num_frames),
        drop_path_rate=0.,
        init_cfg=None,
        pathway=dict(aux_checkpoint=_base_.tiny_aux_checkpoint)),
    head=dict(num_classes=num_classes, in_channels=64,
              init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.02)]))
data_preprocessor = dict(num_classes=num_classes)

# the recipe's pipelines at 128 frames, SpecAugment's 48/192 masks scaled to them: each
# transform's keys here replace the recipe's
transform_overrides = dict(KaldiFbank=dict(target_length=num_frames),
                           SpecAugment=dict(freqm=8, timem=16))
train_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.test_pipeline]
train_dataloader = dict(batch_size=4, drop_last=False, **_base_.tiny_dataloader,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, **_base_.tiny_dataloader,
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
default_hooks = _base_.tiny_hooks
visualizer = dict(vis_backends=[dict(type='LocalVisBackend')])
randomness = _base_.tiny_randomness
