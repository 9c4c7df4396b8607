# Tiny AudioMAE run on CPU (tests, demos): 2 blocks × 32 dims, 64 frames × 32 mel bins in 8 × 8
# patches (8 × 4 tokens), the AudioMAE recipe otherwise (mask 0.8, norm-pix L2), 4 iterations of
# batch 2 on the tiny AudioSet layout written by
#   python tools/data/synth_modalities.py data/tiny --sets audioset
_base_ = [
    './audiomae_m2pt-vit-base-p16_64xb8-amp-coslr-33e_audioset-2m.py',
    '../_base_/tiny_cpu_run.py',
]

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.smoke_arch),
        tokenizer=dict(num_frames=64, num_mel_bins=32, patch_size=8)),
    neck=dict(grid=(8, 4), embed_dim=32, decoder_embed_dim=32, decoder_depth=1,
              decoder_num_heads=2, predict_feature_dim=8 * 8 * 1),
    head=dict(patch_size=8))

# the recipe's pipeline at 32 mel bins × 64 frames: each transform's keys here replace the recipe's
transform_overrides = dict(KaldiFbank=dict(num_mel_bins=32, target_length=64))
train_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.train_pipeline]
train_dataloader = dict(
    batch_size=2, **_base_.tiny_dataloader,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root='data/tiny/audioset', ann_file='train.json', pipeline=train_pipeline))

max_iters = 4
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=1e-4))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    _base_.tiny_hooks,
    checkpoint=dict(_base_.tiny_hooks.checkpoint, by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
