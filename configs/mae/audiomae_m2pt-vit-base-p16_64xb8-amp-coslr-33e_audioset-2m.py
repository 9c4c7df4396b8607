# Audio aux/target pretraining, AudioMAE's recipe (facebookresearch/AudioMAE, submitit_pretrain
# for AudioSet-2M): ViT-B/16 on 1024 × 128 Kaldi fbanks (64 × 8 = 512 patches), class token,
# fixed 2-D sin-cos positions; unstructured random masking of 80% of the patches; decoder 512 wide,
# 8 blocks, 16 heads; L2 loss on per-patch normalised fbank patches (norm_pix_loss=True);
# AdamW blr 2e-4 → lr = 2e-4 × 512 / 256, betas 0.9/0.95, wd 1e-4; 3 warmup epochs then cosine,
# 33 epochs (the script's --epochs 33; the paper says 32), batch 64 GPUs × 8; no SpecAugment or
# mixup during pretraining.
# Deviation: AudioMAE's AudioSet decoder (--decoder_mode 1) uses shifted local window attention;
# M2PTMAEDecoder uses global attention (the decoder is discarded, the encoder is the same).
_base_ = ['../_base_/mmpretrain_runtime.py']

model = dict(
    type='M2PTMAE',
    data_preprocessor=dict(type='SelfSupDataPreprocessor'),  # fbanks are normalised by the pipeline
    backbone=dict(
        type='M2PTMAEViT', arch='base', mask_ratio=0.8,
        tokenizer=dict(type='AudioTokenizer', num_frames=1024, num_mel_bins=128, patch_size=16)),
    neck=dict(
        type='M2PTMAEDecoder', grid=(64, 8), num_extra_tokens=1, embed_dim=768,
        decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16, mlp_ratio=4.,
        predict_feature_dim=16 * 16 * 1),
    head=dict(type='M2PTMAEHead', norm_pix=True, patch_size=16, in_channels=1,
              loss=dict(type='PixelReconstructionLoss', criterion='L2')),
    init_cfg=[dict(type='Xavier', layer='Linear', distribution='uniform'),
              dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)])

train_pipeline = [
    dict(type='LoadAudioFromFile', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128, target_length=1024),
    dict(type='NormalizeFbank'),  # AudioSet mean/std, (x - mean) / (2 std) as AudioMAE
    dict(type='PackInputs', input_key='fbank'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='AudioSetDataset', data_root='data/audioset', ann_file='train_all.json',
                 label_csv='class_labels_indices.csv', pipeline=train_pipeline))

batch_size = 64 * 8
max_epochs = 33
warmup_epochs = 3
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=2e-4 * batch_size / 256, betas=(0.9, 0.95),
                   weight_decay=1e-4),
    # as MAE: no decay on norms, biases, positions and tokens
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.,
                       custom_keys={'pos_embed': dict(decay_mult=0.),
                                    'mask_token': dict(decay_mult=0.),
                                    'cls_token': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0., by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
randomness = dict(seed=0, diff_rank_seed=True)
auto_scale_lr = dict(base_batch_size=batch_size)
