# Tiny M2PT point part segmentation for tests and CPU runs: the ShapeNetPart primitive shrunk to
# the demo ViT (4 blocks × 64 dims, 4 heads, MLP 128), 256 points in 16 groups of 8, trained from
# scratch with W′ from another modality: the MAE-pretrained spectrogram ViT of `make demo`
# (configs/demo/mae_vit-tiny-p8_...; only its block linears are used). Data: the tiny real-format
# set of `python tools/data/synth_modalities.py data/tiny --sets shapenetpart`. Evaluated with
# ShapeNetPartMIoU; the MergePathwayHook writes `epoch_20_deploy.pth`.
# Override with --cfg-options:
#   model.backbone.pathway.aux_checkpoint=PATH      any supported layout, 4 blocks × 64
#   train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR
#   test_dataloader.dataset.data_root=DIR           the ShapeNetPart folder
_base_ = [
    './_base_/partseg_vit-base-g128_1xb16-coslr-300e_shapenetpart-2048.py',
    '../_base_/tiny_cpu_run.py',
]

max_epochs = 20
num_points = 256
data_root = 'data/tiny/shapenetpart'

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.tiny_arch),
        tokenizer=dict(num_groups=16, group_size=8),
        drop_path_rate=0.,
        out_indices=(1, 2, 3),  # the last three of 4 blocks (Point-MAE: 3, 7, 11 of 12)
        pathway=dict(aux_checkpoint=_base_.tiny_aux_checkpoint)),
    head=dict(label_channels=16, fp_channels=(128, 64), mid_channels=(64, 32)))

# the recipe's pipelines at 256 points: each transform's keys here replace the recipe's
transform_overrides = dict(PointSample=dict(num_points=num_points))
train_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.test_pipeline]
train_dataloader = dict(batch_size=4, **_base_.tiny_dataloader,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, **_base_.tiny_dataloader,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=1e-3))  # a few iterations: a larger step than 2e-4
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 2, eta_min=1e-5, by_epoch=True, begin=2,
         end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
auto_scale_lr = dict(base_batch_size=4)
default_hooks = _base_.tiny_hooks
randomness = _base_.tiny_randomness
