# OmniVec stage 1 at the paper's scale (§3.2 "Masked Pretraining", §4 "Masked pretraining"):
# masked pretraining of one trunk on ImageNet-1k (image), AudioSet-2M (audio), Kinetics-400
# (video; the paper: SSv2), SUN RGB-D (depth), ModelNet40 (points) and English Wikipedia (text).
# - sampling: every batch mixes the six sources uniformly (§4: "we do not group the tasks, and
#   instead uniformly sample data from each of the datasets and modalities"); for Table 8's
#   OmniVec-1 ("masked pretraining on single datasets") add
#   --cfg-options train_dataloader.sampler.mode=one_source
# - masking (§4): 90 % of the patches of image, video and audio (and depth, "the same masking
#   strategy for modalities from visual and auditory domains"), 80 % of the point groups, 95 % of
#   the text tokens with f = 5 % predicted (BERT's 8:1:1 on those; the paper's sentence
#   permutation / XLNet objective is not reproduced — see OmniVecMLMHead)
# - losses: L2 on per-patch normalised targets for image, depth, video, audio (§3.2); for points
#   Chamfer distance, Point-MAE's choice, not the paper's: §3.2 says l2 between the predicted and
#   target patches for points too, without saying how a group's unordered points are ordered for
#   it; cross-entropy on the predicted tokens
# - 2000 epochs (§4). The paper does not say what an epoch is over six datasets of very different
#   sizes: here it is ImageNet-1k's size, 1281167 / (8 x 64) = 2502 batches.
# - optimiser: MAE's (AdamW, lr 1.5e-4 x batch / 256, betas 0.9/0.95, wd 0.05, 40 warmup epochs,
#   cosine), an assumption — the paper gives none. Decoders: MAE's 8 blocks x 512 for image,
#   depth, audio, video; Point-MAE's 4 x 384 for points.
_base_ = ['./_base_/omnivec_vit-base-p16_multimodal.py']

max_epochs = 2000
warmup_epochs = 40
batch_size = 64  # per GPU, the base's train_dataloader.batch_size
world_size = 8


def _mae(patch_values, mask_ratio=0.9, **loss):
    return dict(type='OmniVecMAEHead', mask_ratio=mask_ratio,
                decoder=dict(decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16,
                             mlp_ratio=4., predict_feature_dim=patch_values),
                loss=dict(type='M2PTMAEHead', norm_pix=True,
                          loss=dict(type='PixelReconstructionLoss', criterion='L2'), **loss))


model = dict(heads=dict(
    image_mae=dict(_mae(16 * 16 * 3, patch_size=16, in_channels=3), modality='image'),
    depth_mae=dict(_mae(16 * 16 * 4, patch_size=16, in_channels=4), modality='depth'),
    audio_mae=dict(_mae(16 * 16, patch_size=16, in_channels=1), modality='audio'),
    video_mae=dict(_mae(2 * 16 * 16 * 3, patch_size=16, in_channels=3, tubelet_size=2),
                   modality='video'),
    point_mae=dict(type='OmniVecMAEHead', modality='point', mask_ratio=0.8, mask_count='mask',
                   decoder=dict(decoder_embed_dim=384, decoder_depth=4, decoder_num_heads=6,
                                mlp_ratio=4., predict_feature_dim=32 * 3, pos_embed='mlp'),
                   loss=dict(type='PointMAEHead', group_size=32)),
    text_mlm=dict(type='OmniVecMLMHead', modality='text', mask_ratio=0.95, predict_ratio=0.05)))

pretrain = dict(task_group='pretrain')
train_dataloader = dict(
    sampler=dict(batches_per_epoch=1281167 // (batch_size * world_size)),
    dataset=dict(sources=dict(
        imagenet=dict(dataset={{_base_.imagenet_train}}, modality='image', task='image_mae',
                      **pretrain),
        sunrgbd=dict(dataset={{_base_.sunrgbd_train}}, modality='depth', task='depth_mae',
                     **pretrain),
        audioset=dict(dataset={{_base_.audioset_train}}, modality='audio', task='audio_mae',
                      **pretrain),
        kinetics=dict(dataset={{_base_.kinetics_train}}, modality='video', task='video_mae',
                      **pretrain),
        modelnet=dict(dataset={{_base_.modelnet_train}}, modality='point', task='point_mae',
                      **pretrain),
        wikipedia=dict(dataset={{_base_.wikipedia}}, modality='text', task='text_mlm',
                       **pretrain))))

optim_wrapper = dict(
    type='AmpOptimWrapper', loss_scale='dynamic',  # `amp` in the name
    optimizer=dict(lr=1.5e-4 * batch_size * world_size / 256, betas=(0.9, 0.95)))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0., by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_dataloader = val_cfg = val_evaluator = None  # masked pretraining has no evaluation
test_dataloader = test_cfg = test_evaluator = None
auto_scale_lr = dict(base_batch_size=batch_size * world_size)
