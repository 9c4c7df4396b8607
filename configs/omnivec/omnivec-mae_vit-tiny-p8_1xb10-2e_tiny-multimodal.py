# OmniVec stage 1 at CPU size: masked pretraining of the shared trunk on five modalities at once
# (paper §3.2 / §4 "Masked pretraining"), through tools/train.py in minutes on 2 cores.
# Every batch mixes the five sources uniformly (2 samples each; the paper: "we do not group the
# tasks, and instead uniformly sample data from each of the datasets and modalities"). Masking as
# the paper: 90 % of the patches of image, audio and video, 80 % of the point groups, 95 % of the
# text tokens of which 5 % are predicted (BERT's 8:1:1 on those). Losses: L2 on per-patch
# normalised pixels / fbank patches / tubelets, for point groups Chamfer distance, Point-MAE's
# choice, not the paper's (§3.2 says l2 for points too), cross-entropy for the predicted tokens;
# their sum trains one trunk.
# Data: python -m m2pt_mm.testing.omnivec data/omnivec-tiny (see the _base_).
# Next stage: omnivec-4_vit-tiny-p8_omnivec-mae-pre_1xb10-tg-4e_tiny-multimodal.py.
_base_ = ['./_base_/omnivec_vit-tiny-p8_tiny-multimodal.py']

max_epochs = 2


def _mae(patch_values, **loss):
    """A one-block decoder and a pixel loss for ``patch_values`` values per token."""
    return dict(decoder=dict(decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=4,
                             mlp_ratio=2., predict_feature_dim=patch_values),
                loss=dict(type='M2PTMAEHead', norm_pix=True,
                          loss=dict(type='PixelReconstructionLoss', criterion='L2'), **loss))


model = dict(heads=dict(
    image_mae=dict(type='OmniVecMAEHead', modality='image', mask_ratio=0.9,
                   **_mae(8 * 8 * 3, patch_size=8, in_channels=3)),
    audio_mae=dict(type='OmniVecMAEHead', modality='audio', mask_ratio=0.9,
                   **_mae(8 * 8, patch_size=8, in_channels=1)),
    video_mae=dict(type='OmniVecMAEHead', modality='video', mask_ratio=0.9,
                   **_mae(2 * 8 * 8 * 3, patch_size=8, in_channels=3, tubelet_size=2)),
    point_mae=dict(type='OmniVecMAEHead', modality='point', mask_ratio=0.8, mask_count='mask',
                   decoder=dict(decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=4,
                                mlp_ratio=2., predict_feature_dim=8 * 3, pos_embed='mlp'),
                   loss=dict(type='PointMAEHead', group_size=8)),
    text_mlm=dict(type='OmniVecMLMHead', modality='text', mask_ratio=0.95, predict_ratio=0.05)))

train_dataloader = dict(dataset=dict(sources=dict(
    digits=dict(dataset={{_base_.digits_train}}, modality='image', task='image_mae',
                task_group='pretrain'),
    esc50=dict(dataset={{_base_.esc50_train}}, modality='audio', task='audio_mae',
               task_group='pretrain'),
    kinetics=dict(dataset={{_base_.kinetics_train}}, modality='video', task='video_mae',
                  task_group='pretrain'),
    modelnet=dict(dataset={{_base_.modelnet_train}}, modality='point', task='point_mae',
                  task_group='pretrain'),
    text=dict(dataset={{_base_.text_corpus}}, modality='text', task='text_mlm',
              task_group='pretrain'))))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_dataloader = val_cfg = val_evaluator = None  # masked pretraining has no evaluation
test_dataloader = test_cfg = test_evaluator = None
