# Tiny VideoMAE run on CPU (tests, demos): 2 blocks × 32 dims, 4 frames of 32² in 2 × 8 × 8
# tubelets (2 × 4 × 4 tokens), the VideoMAE recipe otherwise (tube mask 0.9: 2 of 16 spatial
# positions visible, normalised-tubelet L2), 4 iterations of batch 2 on the tiny Kinetics layout
# written by
#   python tools/data/synth_modalities.py data/tiny --sets kinetics
_base_ = [
    './videomae_m2pt-vit-base-p16_64xb32-amp-coslr-800e_k400.py',
    '../_base_/tiny_cpu_run.py',
]

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **_base_.smoke_arch),
        tokenizer=dict(num_frames=4, img_size=32, patch_size=8)),
    neck=dict(grid=(2, 4, 4), embed_dim=32, decoder_embed_dim=32, decoder_depth=1,
              decoder_num_heads=2, predict_feature_dim=2 * 8 * 8 * 3),
    head=dict(patch_size=8))

# the recipe's pipeline at 4 frames every 2nd and 32² (resized and cropped): each transform's
# keys here replace the recipe's
transform_overrides = dict(SampleFrames=dict(clip_len=4, frame_interval=2),
                           VideoResize=dict(short_side=32), VideoCrop=dict(crop_size=32))
train_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.train_pipeline]
train_dataloader = dict(
    batch_size=2, **_base_.tiny_dataloader,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root='data/tiny/kinetics', ann_file='kinetics_train_list.txt',
                 data_prefix='videos', num_classes=2, pipeline=train_pipeline))

max_iters = 4
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    _base_.tiny_hooks,
    checkpoint=dict(_base_.tiny_hooks.checkpoint, by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
