# Tiny M2PT video classifier for tests and CPU demos: the structure of the Kinetics-400 configs
# (VideoTokenizer with fixed sin-cos positions, no class token, mean pooling + fc_norm, linear
# head, label smoothing, top-1/top-5 accuracy), at 4 blocks x 64 dims and 4-frame 32x32 clips in
# 2x8x8 tubelets (2 x 4 x 4 tokens), trained from scratch on the synthetic Kinetics written by
# `python tools/data/synth_modalities.py data/tiny --sets kinetics`.
# The head has 5 outputs so that top-5 is defined as for K400; the synthetic set uses labels
# 0..1 (write_kinetics(num_classes=K) writes up to K).
# Auxiliary W′: the `make demo` MAE ViT (4 blocks x 64, configs/demo/mae_vit-tiny-p8_...): only its
# block linears are read, so its tokenizer (8x8 image patches) need not match.
# Override with --cfg-options:
#   model.backbone.pathway.aux_checkpoint=PATH      any supported layout, 4 blocks x 64 x MLP 128
#   train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR
#   test_dataloader.dataset.data_root=DIR           a Kinetics-format folder
_base_ = [
    './_base_/videomae-ft_vit-base-p16_64xb12-150e_k400-16x4.py',
    '../_base_/tiny_cpu_run.py',
]

data_root = 'data/tiny/kinetics'
num_classes = 5
clip_len = 4
frame_interval = 2
max_epochs = 20
warmup_epochs = 2

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.tiny_arch),
        img_size=32,
        patch_size=8,
        tokenizer=dict(num_frames=clip_len),
        drop_path_rate=0.,
        init_cfg=None,
        pathway=dict(aux_checkpoint=_base_.tiny_aux_checkpoint)),
    head=dict(num_classes=num_classes, in_channels=64,
              init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.02)]),
    train_cfg=dict(_delete_=True))  # no Mixup/CutMix: with 4 clips they would only blur labels
data_preprocessor = dict(num_classes=num_classes)

# the recipe's test pipelines (the 5 x 3-view `--tta` one included) at 4 frames every 2nd and
# 32² (resized and cropped): each transform's keys here replace the recipe's
transform_overrides = dict(SampleFrames=dict(clip_len=clip_len, frame_interval=frame_interval),
                           VideoResize=dict(short_side=32), VideoCrop=dict(crop_size=32))
# Training: resize + random crop + flip and the default sampler. On these 4 synthetic clips the
# recipe's training augmentations keep the tiny model at chance in the tests' 8 epochs (measured:
# 50 % top-1 against 100 %, with its random-resized crops alone, with RandAugment + erasing alone,
# with or without the repeated sampling); they are tested as transforms in
# tests/test_audio_video/test_videomae_recipe.py.
train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval),
    dict(type='PyAVDecode'),
    dict(type='VideoResize', short_side=32),
    dict(type='VideoCrop', crop_size=32, random_crop=True),
    dict(type='VideoFlip', prob=0.5),
    dict(type='VideoNormalize'),
    dict(type='PackInputs', input_key='imgs'),
]
test_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.test_pipeline]
tta_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.tta_pipeline[:-1]]
tta_pipeline.append(dict(type='TestTimeAug', transforms=[
    [dict(t, **transform_overrides.get(t.type, {})) for t in views]
    for views in _base_.tta_pipeline[-1].transforms]))
train_dataloader = dict(
    batch_size=4, drop_last=False, **_base_.tiny_dataloader,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(data_root=data_root, ann_file='kinetics_train_list.txt', data_prefix='videos',
                 num_classes=num_classes, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, **_base_.tiny_dataloader,
    dataset=dict(data_root=data_root, ann_file='kinetics_val_list.txt', data_prefix='videos',
                 num_classes=num_classes, pipeline=test_pipeline))
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
