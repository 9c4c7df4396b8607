# `make demo`, baseline: the tiny ViT (4 blocks × 64 dims, 8×8 patches) trained from scratch on
# scikit-learn's real 8×8 digit scans, upscaled to 32×32 RGB (tools/data/digits_to_imagenet.py:
# 1,437 train / 360 val images, ImageNet folder format). No pathway: a plain ViT. The M2PT config
# (m2pt_vit-tiny-p8-spectrogram_scratch_...) inherits this file, so both share the recipe and the
# budget.
# Override with --cfg-options:
#   train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR
#   test_dataloader.dataset.data_root=DIR      the digits folder (train/, val/, meta/)
#   randomness.seed=S                           the training seed
_base_ = [
    '../_base_/models/m2pt_vit-tiny-p8.py',
    'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py',
    '../_base_/mmpretrain_runtime.py',  # + m2pt_mm imports and hooks
    '../_base_/tiny_cpu_run.py',
]

max_epochs = 20
warmup_epochs = 2
data_root = 'work_dirs/demo/data/digits'
classes = ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')

model = dict(head=dict(num_classes=len(classes)))

data_preprocessor = dict(num_classes=len(classes), mean=[127.5] * 3, std=[127.5] * 3,
                         to_rgb=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=2),  # digits: small shifts, no flips
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    **_base_.tiny_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root=data_root, ann_file='meta/train.txt',
                 data_prefix='train', metainfo=dict(classes=classes), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=120,
    **_base_.tiny_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root=data_root, ann_file='meta/val.txt',
                 data_prefix='val', metainfo=dict(classes=classes), pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# mmpretrain's AdamW recipe (lr 1e-3, wd 0.05, no decay on norms, biases and 1-D parameters —
# which include the Cross-Modal Scales λ — nor on the position embedding and class token)
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={
        'pos_embed': dict(decay_mult=0.),
        'cls_token': dict(decay_mult=0.),
        'cross_modal_scale': dict(decay_mult=0.),
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=64)

default_hooks = _base_.tiny_hooks
randomness = _base_.tiny_randomness
