# OmniVec stage 1 of the evidence study (studies/m2pt_digits.py): masked pretraining of one
# shared trunk on the spectrograms of `make demo` (modality audio) and the digit images (modality
# image) jointly, on the budget of the demo's spectrogram MAE, the auxiliary model of the M2PT side
# (configs/demo/mae_vit-tiny-p8_1xb64-coslr-20e_spectrogram-32x32.py, inherited here): its tiny
# blocks (4 × 64), optimiser, schedule, batch size 64, mask ratio 0.75 (the paper's 0.9 would
# leave int(16 · 0.1) = 1 visible token of the 16 patches of a 32×32 input), a 2-block decoder of
# its width, L2 on per-patch normalised pixels, and as many optimizer steps: 20 epochs of
# ceil(2,000 / 64) = 32 batches. Every batch holds 32 spectrograms and 32 digits (uniform over the
# sources, the paper's masked pretraining), so the trunk sees half the MAE's spectrogram samples.
# No augmentation, as the MAE. The digits' labels are read with the images but no head uses them.
# Next stage: omnivec_vit-tiny-p8_omnivec-mae-spectrogram-digits-pre_1xb64-coslr-20e_digits-
# 32x32.py.
# Override with --cfg-options:
#   train_dataloader.dataset.sources.spectrograms.dataset.data_root=DIR   the spectrogram PNGs
#   train_dataloader.dataset.sources.digits.dataset.data_root=DIR         the digits folder
#   train_dataloader.dataset.sources.digits.dataset.ann_file=FILE   e.g. a 10 % split's list
#   train_dataloader.sampler.batches_per_epoch=N                    ceil(spectrograms / 64)
_base_ = ['../demo/mae_vit-tiny-p8_1xb64-coslr-20e_spectrogram-32x32.py']

batch_size = 64
patch_size = 8


def _mae(in_channels):
    """The demo MAE's decoder (2 blocks × 64, 4 heads, MLP ×4) and loss, for one modality."""
    return dict(
        mask_ratio=0.75,
        decoder=dict(decoder_embed_dim=64, decoder_depth=2, decoder_num_heads=4, mlp_ratio=4.,
                     predict_feature_dim=patch_size * patch_size * in_channels),
        loss=dict(type='M2PTMAEHead', norm_pix=True, patch_size=patch_size,
                  in_channels=in_channels,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2')))


model = dict(
    _delete_=True,
    type='OmniVec',
    trunk=dict(arch=_base_.tiny_arch, drop_path_rate=0.),
    encoders=dict(  # depth 0: tokenizer + positions, as a ViT's stem
        image=dict(tokenizer=dict(type='ImageTokenizer', img_size=32, patch_size=patch_size)),
        # a spectrogram PNG transposed to AudioMAE's (1, frames, mel bins)
        audio=dict(tokenizer=dict(type='AudioTokenizer', num_frames=32, num_mel_bins=32,
                                  patch_size=patch_size))),
    vectorizer=None,  # no head of either stage reads an Omni embedding
    heads=dict(image_mae=dict(type='OmniVecMAEHead', modality='image', **_mae(3)),
               audio_mae=dict(type='OmniVecMAEHead', modality='audio', **_mae(1))))

# 0..255 pixels to [-1, 1], as the MAE's SelfSupDataPreprocessor and the digit classifiers
data_preprocessor = dict(
    _delete_=True,
    type='OmniVecDataPreprocessor',
    preprocessors=dict(
        image=dict(type='ClsDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, to_rgb=False),
        audio=dict(type='ClsDataPreprocessor', mean=[127.5], std=[127.5], to_rgb=False)))

spectrogram_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Transpose', keys=['img'], order=(1, 0)),  # (mel bins, frames) → (frames, mel bins)
    dict(type='PackInputs'),
]
digits_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=batch_size,
    collate_fn=dict(type='omnivec_collate'),
    sampler=dict(_delete_=True, type='ModalityMixingSampler', batch_size=batch_size,
                 batches_per_epoch=32),
    dataset=dict(
        _delete_=True,
        type='MultiSourceDataset',
        sources=dict(
            spectrograms=dict(
                dataset=dict(_base_.train_dataloader.dataset, pipeline=spectrogram_pipeline),
                modality='audio', task='audio_mae', task_group='pretrain'),
            digits=dict(
                dataset=dict(type='CustomDataset', data_root='work_dirs/demo/data/digits',
                             ann_file='meta/train.txt', data_prefix='train',
                             pipeline=digits_pipeline),
                modality='image', task='image_mae', task_group='pretrain'))))

# no weight decay on the norms of the projections and the "none" meta embeddings either (the
# MAE's 'ln' key covers the trunk's)
optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=0.,
                                        custom_keys={'none_embed': dict(decay_mult=0.)}))

# the M2PT hooks have no pathway to act on here: only the checkpoint check stays
custom_hooks = [
    dict(type='CheckpointCheckHook', strict=True),
    # as ../_base_/m2pt_runtime.py: exact resume with random augmentation, NaN loss stops
    dict(type='ResumableRandomnessHook'),
    dict(type='FiniteLossHook', interval=1),
]
