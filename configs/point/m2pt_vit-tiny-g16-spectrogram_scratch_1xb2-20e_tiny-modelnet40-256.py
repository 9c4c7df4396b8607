# Tiny M2PT point classifier for tests and CPU runs: the ModelNet40 primitive shrunk to the demo
# ViT (4 blocks × 64 dims), 256 points in 16 groups of 8, from scratch with W′ from the
# MAE-pretrained spectrogram ViT of `make demo`. Data: `python tools/data/synth_modalities.py
# data/tiny --sets modelnet40` (3 shapes as 3 classes). Evaluated with top-1 accuracy; the
# MergePathwayHook writes `epoch_20_deploy.pth`. Override as the tiny ShapeNetPart config.
_base_ = [
    './_base_/cls_vit-base-g64_1xb32-coslr-300e_modelnet40-1024.py',
    '../_base_/tiny_cpu_run.py',
]

max_epochs = 20
num_points = 256
data_root = 'data/tiny/modelnet40'

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.tiny_arch),
        tokenizer=dict(num_groups=16, group_size=8),
        drop_path_rate=0.,
        pathway=dict(aux_checkpoint=_base_.tiny_aux_checkpoint)),
    head=dict(in_channels=2 * 64, mid_channels=[32, 32]))

# training: a random 256 points, without the recipe's FPS to 1200 first
train_pipeline = [
    dict(type='LoadPointCloud'),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='random'),
    dict(type='PointScaleAndTranslate'),
    dict(type='PackInputs', input_key='points'),
]
# testing: the recipe's pipeline at 256 points (each transform's keys here replace the recipe's)
transform_overrides = dict(PointSample=dict(num_points=num_points))
test_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.test_pipeline]
train_dataloader = dict(batch_size=2, **_base_.tiny_dataloader,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=3, **_base_.tiny_dataloader,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 2, eta_min=1e-5, by_epoch=True, begin=2,
         end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=2)
default_hooks = _base_.tiny_hooks
randomness = _base_.tiny_randomness
