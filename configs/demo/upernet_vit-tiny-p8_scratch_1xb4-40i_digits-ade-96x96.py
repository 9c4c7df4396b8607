# A tiny UperNet for tests, CPU demos and acceptance runs: the ADE20K recipe of
# configs/segmentation/ with a 4-block × 64 ViT (8×8 patches) from scratch, on the digit scenes
# written by `python tools/data/digits_to_coco_ade20k.py data/digits_scenes` (ADE20K folders:
# JPEG images, PNG label maps with 0 = other), slide inference, mmseg's IoUMetric.
# Plain ViT: M2PT is the child config.
_base_ = [
    '../segmentation/_base_/upernet_vit-base-p16_8xb2-160k_ade20k-512x512.py',  # fp32: CPU, no AMP
    '../_base_/tiny_cpu_run.py',
]

data_root = 'data/digits_scenes/ade'
crop_size = (96, 96)
norm_cfg = dict(type='BN', requires_grad=True)  # one process, CPU: no SyncBN
metainfo = dict(
    classes=tuple(f'digit-{d}' for d in range(10)),
    palette=[(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
             (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 190)])

model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch=dict(_delete_=True, **_base_.tiny_arch),
        img_size=crop_size,
        patch_size=8,
        drop_path_rate=0.,
        out_indices=(0, 1, 2, 3)),
    neck=dict(embed_dim=64, rescales=[2, 1, 0.5, 0.25], norm_cfg=norm_cfg),  # strides 4 … 32
    decode_head=dict(in_channels=[64] * 4, channels=64, num_classes=10, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=32, num_classes=10, norm_cfg=norm_cfg),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(64, 64)))

# no flips: a mirrored digit is not a digit
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(160, 128), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(160, 128), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
dataset = dict(type='BaseSegDataset', data_root=data_root, metainfo=metainfo, img_suffix='.jpg',
               seg_map_suffix='.png', reduce_zero_label=True)
train_dataloader = dict(
    batch_size=4, **_base_.tiny_dataloader,
    dataset=dict(_delete_=True, data_prefix=dict(img_path='images/training',
                                                 seg_map_path='annotations/training'),
                 pipeline=train_pipeline, **dataset))
val_dataloader = dict(
    batch_size=1, **_base_.tiny_dataloader,
    dataset=dict(_delete_=True, data_prefix=dict(img_path='images/validation',
                                                 seg_map_path='annotations/validation'),
                 pipeline=test_pipeline, **dataset))
test_dataloader = val_dataloader

max_iters = 40
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(
    optimizer=dict(lr=5e-4),
    # the tiny runs have always decayed the class token, which the recipe exempts: kept as it was
    paramwise_cfg=dict(custom_keys=dict(_delete_=True, **{'.pos_embed': dict(decay_mult=0.)})))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5),
    dict(type='PolyLR', eta_min=0., power=1.0, begin=5, end=max_iters, by_epoch=False),
]
default_hooks = dict(
    _base_.tiny_hooks,
    checkpoint=dict(_base_.tiny_hooks.checkpoint, by_epoch=False, interval=max_iters))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = _base_.tiny_randomness
