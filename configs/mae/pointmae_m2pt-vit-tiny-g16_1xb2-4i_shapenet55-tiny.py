# Tiny Point-MAE run on CPU (tests, demos): 2 blocks × 32 dims, 256 points in 16 groups of 16,
# the Point-MAE recipe otherwise (mask 0.6: 7 of 16 groups visible, Chamfer L2), 4 iterations of
# batch 2 on the tiny ShapeNet-55 layout written by
#   python tools/data/synth_modalities.py data/tiny --sets shapenet55
_base_ = [
    './pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024.py',
    '../_base_/tiny_cpu_run.py',
]

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.smoke_arch),
        drop_path_rate=0., tokenizer=dict(num_groups=16, group_size=16)),
    neck=dict(grid=(16, ), embed_dim=32, decoder_embed_dim=32, decoder_depth=1,
              decoder_num_heads=2, predict_feature_dim=3 * 16),
    head=dict(group_size=16))

# the recipe's pipeline at 256 points: each transform's keys here replace the recipe's
transform_overrides = dict(PointSample=dict(num_points=256))
train_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.train_pipeline]
train_dataloader = dict(
    batch_size=2, **_base_.tiny_dataloader,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root='data/tiny/shapenet55', pipeline=train_pipeline))

max_iters = 4
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    _base_.tiny_hooks,
    # an iteration run has no epochs to keep (the recipe keeps epochs 20 and 220)
    checkpoint=dict(_base_.tiny_hooks.checkpoint, by_epoch=False, interval=max_iters,
                    keep_epochs=()))
log_processor = dict(by_epoch=False)
