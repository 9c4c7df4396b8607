# Evidence study (studies/m2pt_digits.py): Point-MAE pretraining of a ViT with the blocks of
# the tiny digit ViT (4 × 64, 4 heads, MLP 128) on synthetic point clouds (spheres, cubes and
# cylinders in Point-MAE's ShapeNet-55 layout, m2pt_mm.testing.modalities.write_shapenet55): the
# auxiliary model of a second other modality. Point-MAE's recipe
# (pointmae_m2pt-vit-base-g64_..._shapenet55-1024.py) at 256 points in 16 groups of 16, 320
# optimizer steps of batch 32 (a tenth warm-up, then cosine): a quarter of the samples of the other
# MAEs of the study (640 steps of 64), because Point-MAE's mini-PointNet tokenizer (its fixed
# 128/256/512 channels on every group) costs about 0.8 s per step of 64 clouds on one CPU core.
# Override with --cfg-options:
#   train_dataloader.dataset.data_root=DIR   the ShapeNet-55 layout (ShapeNet-55/, shapenet_pc/)
_base_ = [
    '../mae/pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024.py',
    '../_base_/tiny_cpu_run.py',
]

max_iters = 320
warmup_iters = 32

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.tiny_arch), drop_path_rate=0.,
        tokenizer=dict(num_groups=16, group_size=16)),
    neck=dict(grid=(16, ), embed_dim=64, decoder_embed_dim=64, decoder_depth=2,
              decoder_num_heads=4, predict_feature_dim=3 * 16),
    head=dict(group_size=16))

transform_overrides = dict(PointSample=dict(num_points=256))
train_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.train_pipeline]
train_dataloader = dict(
    batch_size=32, **_base_.tiny_dataloader,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root='work_dirs/study/data/shapenet55', pipeline=train_pipeline))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(_base_.tiny_hooks, checkpoint=dict(_base_.tiny_hooks.checkpoint,
                                                        by_epoch=False, interval=max_iters,
                                                        keep_epochs=()))
log_processor = dict(by_epoch=False)
randomness = _base_.tiny_randomness
auto_scale_lr = dict(base_batch_size=32)
