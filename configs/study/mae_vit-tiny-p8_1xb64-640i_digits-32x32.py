# Evidence study (studies/m2pt_digits.py): MAE pretraining of the tiny ViT (4 × 64, 8×8
# patches) on the digit images themselves, labels unused: the in-domain auxiliary model (an upper
# reference, not the paper's claim) and W of the paper's *pretrained* setting. The spectrogram
# MAE's recipe, decoder and number of optimizer steps (../demo/mae_vit-tiny-p8_1xb64-coslr-20e_
# spectrogram-32x32.py: 20 epochs of 32 batches of 64 = 640 steps, a tenth of them warm-up),
# counted in iterations so that a regime of 108 training images gets as many steps as one of
# 1,077; three input channels, as the digit classifiers read the RGB PNGs.
# Override with --cfg-options:
#   train_dataloader.dataset.data_root=DIR   the digits folder (train/, meta/)
#   train_dataloader.dataset.ann_file=FILE   the regime's training list, e.g. meta/train-10pct.txt
_base_ = ['../demo/mae_vit-tiny-p8_1xb64-coslr-20e_spectrogram-32x32.py']

max_iters = 640
warmup_iters = 64

model = dict(
    backbone=dict(patch_cfg=dict(in_channels=3)),
    neck=dict(in_chans=3),
    head=dict(in_channels=3))

data_preprocessor = dict(mean=[127.5] * 3, std=[127.5] * 3)

train_dataloader = dict(
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='work_dirs/study/data/digits',
        ann_file='meta/train.txt',
        data_prefix='train',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
