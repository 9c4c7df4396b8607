# Tiny VideoMAE run on CPU (tests, demos): 2 blocks × 32 dims, 4 frames of 32² in 2 × 8 × 8
# tubelets (2 × 4 × 4 tokens), the VideoMAE recipe otherwise (tube mask 0.9: 2 of 16 spatial
# positions visible, normalised-tubelet L2), 4 iterations of batch 2 on the tiny Kinetics layout
# written by
#   python tools/data/synth_modalities.py data/tiny --sets kinetics
_base_ = ['./videomae_m2pt-vit-base-p16_64xb8-amp-coslr-800e_k400.py']

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
        tokenizer=dict(num_frames=4, img_size=32, patch_size=8)),
    neck=dict(grid=(2, 4, 4), embed_dim=32, decoder_embed_dim=32, decoder_depth=1,
              decoder_num_heads=2, predict_feature_dim=2 * 8 * 8 * 3),
    head=dict(patch_size=8))

train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root='data/tiny/kinetics', ann_file='kinetics_train_list.txt',
                 data_prefix='videos', num_classes=2,
                 pipeline=[dict(type='PyAVInit'),
                           dict(type='SampleFrames', clip_len=4, frame_interval=2),
                           dict(type='PyAVDecode'),
                           dict(type='VideoResize', short_side=32),
                           dict(type='VideoCrop', crop_size=32, random_crop=True),
                           dict(type='VideoNormalize'),
                           dict(type='PackInputs', input_key='imgs')]))

max_iters = 4
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=max_iters, by_epoch=False, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
