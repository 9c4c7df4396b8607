# OmniVec (Srivastava & Sharma, WACV 2024) at the paper's scale: the model without heads, every
# modality's pipelines and the datasets of both stages, in the on-disk formats this toolbox reads.
# The stage configs beside this file pick heads, sources and schedule.
#
# Numbers and their sources:
# - trunk: 12 blocks x 768, 12 heads, MLP 3072 — the paper's backbone is BERT [18] (§3.1
#   "Transformer"), whose base size is ViT-B's; the blocks are M2PTVisionTransformer's, so the trunk
#   is an M2PT auxiliary model and a one-modality OmniVec exports to a plain ViT-B.
# - encoders (Table 1): image ViT-B/16 at 224 (ViT [19]); depth the same with 4 channels (§3.1:
#   D ∈ R^{1×h×w×4×1}); audio 1024 frames x 128 mel bins in 16x16 patches (AST [27]'s input,
#   without its overlapping patches: AudioMAE's, as configs/mae/audiomae_*); video 16 frames at
#   224 in 2x16x16 tubelets (ViViT [4]'s tubelet embedding, VideoMAE's sizes, as
#   configs/mae/videomae_*); points 2048 in 128 groups of 32 (Point-MAE's segmentation setting;
#   Simple3D-former [82] has no code here); text BERT's WordPiece size 30522 and sequence length
#   128 (BERT's first pretraining phase).
# - meta tokens, FiLM projection + LN, vectorizer (§3.1): d = 768 and L = 8 pooled tokens; the
#   paper states neither.
# Not reproduced: the paper's modality encoders are the full networks of Table 1 ("same network
# configurations as in corresponding publications"); here each is its tokenizer and position table
# (encoder depth 0) so that a trained OmniVec exports to a plain ViT;
# omnivec-mae_vit-base-p16-enc12_* gives every encoder 12 blocks (the paper's layout, not
# exportable). Optimiser, batch size, warmup and the
# unit of an "epoch" are not in the paper (its supplementary material was not available): the
# stage configs say what they assume.
_base_ = ['../../_base_/mmpretrain_runtime.py']

encoder_depth = 0

model = dict(
    type='OmniVec',
    data_preprocessor=dict(
        type='OmniVecDataPreprocessor',
        preprocessors=dict(
            # ImageNet statistics; LoadImageFromFile reads BGR
            image=dict(type='ClsDataPreprocessor', mean=[123.675, 116.28, 103.53],
                       std=[58.395, 57.12, 57.375], to_rgb=True),
            # RGB (LoadRGBDFromFile reads RGB) + depth in metres; the depth mean/std are an
            # assumption (SUN RGB-D indoor scenes: mostly 1-5 m), not from the paper
            depth=dict(type='ClsDataPreprocessor', mean=[123.675, 116.28, 103.53, 2.5],
                       std=[58.395, 57.12, 57.375, 1.5], to_rgb=False))),
    trunk=dict(arch='base', drop_path_rate=0.1),
    encoders=dict(
        image=dict(depth=encoder_depth,
                   tokenizer=dict(type='ImageTokenizer', img_size=224, patch_size=16)),
        depth=dict(depth=encoder_depth,
                   tokenizer=dict(type='ImageTokenizer', in_channels=4, img_size=224,
                                  patch_size=16)),
        audio=dict(depth=encoder_depth,
                   tokenizer=dict(type='AudioTokenizer', num_frames=1024, num_mel_bins=128,
                                  patch_size=16)),
        video=dict(depth=encoder_depth,
                   tokenizer=dict(type='VideoTokenizer', num_frames=16, img_size=224,
                                  patch_size=16, tubelet_size=2)),
        point=dict(depth=encoder_depth,
                   tokenizer=dict(type='PointTokenizer', num_groups=128, group_size=32)),
        text=dict(depth=encoder_depth,
                  tokenizer=dict(type='TextTokenizer', vocab_size=30522, max_length=128))),
    vectorizer=dict(out_dims=768, num_tokens=8),
    heads=dict())

# ------------------------------------------------------------------ pipelines, one per modality
image_train = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),  # MAE's pretraining crop
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
image_test = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
depth_train = [
    dict(type='LoadRGBDFromFile', depth_encoding='sunrgbd'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
depth_test = [
    dict(type='LoadRGBDFromFile', depth_encoding='sunrgbd'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
audioset_pipeline = [
    dict(type='LoadAudioFromFile', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128, target_length=1024),
    dict(type='NormalizeFbank'),  # AudioSet mean/std, AudioMAE's
    dict(type='PackInputs', input_key='fbank'),
]
esc50_stats = dict(mean=-6.6268077, std=5.358466)  # AudioMAE norm_stats['esc50']
esc50_train = [
    dict(type='LoadAudioFromFile', sample_rate=16000),  # 5-s clips: 512 frames, padded to 1024
    dict(type='KaldiFbank', num_mel_bins=128, target_length=1024),
    dict(type='SpecAugment', freqm=48, timem=192),  # AudioMAE's fine-tuning masks
    dict(type='NormalizeFbank', **esc50_stats),
    dict(type='PackInputs', input_key='fbank'),
]
esc50_test = [
    dict(type='LoadAudioFromFile', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=128, target_length=1024),
    dict(type='NormalizeFbank', **esc50_stats),
    dict(type='PackInputs', input_key='fbank'),
]
video_train = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4),  # VideoMAE's K400 sampling
    dict(type='PyAVDecode'),
    dict(type='VideoResize', short_side=256),
    dict(type='VideoCrop', crop_size=224, random_crop=True),
    dict(type='VideoFlip'),
    dict(type='VideoNormalize'),
    dict(type='PackInputs', input_key='imgs'),
]
video_test = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='VideoResize', short_side=224),
    dict(type='VideoCrop', crop_size=224),
    dict(type='VideoNormalize'),
    dict(type='PackInputs', input_key='imgs'),
]
num_points = 2048
point_train = [
    dict(type='LoadPointCloud'),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='random', replace=True),
    dict(type='PointScaleAndTranslate', scale_range=(0.8, 1.25), translate_range=0.1,
         anisotropic=False),  # Point-MAE's augmentation
    dict(type='PackInputs', input_key='points'),
]
point_test = [
    dict(type='LoadPointCloud'),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='random', replace=True),
    dict(type='PackInputs', input_key='points'),
]
part_train = [
    dict(type='LoadPointCloud', with_seg_label=True),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='random', replace=True),
    dict(type='PointScaleAndTranslate', scale_range=(0.8, 1.25), translate_range=0.1,
         anisotropic=False),
    dict(type='PackInputs', input_key='points', algorithm_keys=('gt_seg_label', )),
]
part_test = [
    dict(type='LoadPointCloud', with_seg_label=True),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='random', replace=True),
    dict(type='PackInputs', input_key='points', algorithm_keys=('gt_seg_label', )),
]
# S3DIS: a whole room sampled to num_points (the benchmark's loaders cut 1 m blocks first; rooms
# hold up to millions of points: convert them once if reading the txt files per epoch is slow)
s3dis_pipeline = [
    dict(type='LoadS3DISRoom'),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='random', replace=True),
    dict(type='PackInputs', input_key='points', algorithm_keys=('gt_seg_label', )),
]
# the WordPiece vocabulary is built once from the Wikipedia text:
#   build_text_vocab(open('data/wikipedia/wiki.txt'), 30522, 'data/wikipedia/vocab.json')
text_pipeline = [
    dict(type='TokenizeText', vocab_file='data/wikipedia/vocab.json', max_length=128),
    dict(type='PackInputs', input_key='input_ids',
         meta_keys=('sample_idx', 'text_length', 'truncated')),
]

# ------------------------------------------------------------------ datasets (real formats)
# ImageNet-1k folder (train/<wnid>/*.JPEG, val + meta/val.txt)
imagenet_train = dict(type='ImageNet', data_root='data/imagenet', split='train',
                      pipeline=image_train)
imagenet_val = dict(type='ImageNet', data_root='data/imagenet', split='val', pipeline=image_test)
# AudioSet-2M in AudioMAE's json layout (the paper pretrains on AudioSet)
audioset_train = dict(type='AudioSetDataset', data_root='data/audioset', ann_file='train_all.json',
                      label_csv='class_labels_indices.csv', pipeline=audioset_pipeline)
# ESC-50, fold 1 held out (Table 7: audio event classification, simple)
esc50_train_set = dict(type='ESC50Dataset', data_root='data/ESC-50-master', split='train',
                       val_fold=1, pipeline=esc50_train)
esc50_val_set = dict(esc50_train_set, split='val', pipeline=esc50_test)
# Kinetics-400 list files (the paper pretrains on SSv2 and trains on K400; no SSv2 reader here)
kinetics_train = dict(type='KineticsDataset', data_root='data/kinetics400',
                      ann_file='kinetics400_train_list_videos.txt', data_prefix='videos_train',
                      pipeline=video_train)
kinetics_val = dict(type='KineticsDataset', data_root='data/kinetics400',
                    ann_file='kinetics400_val_list_videos.txt', data_prefix='videos_val',
                    pipeline=video_test)
# SUN RGB-D scene classification as RGB-D lists (19 scene classes as Omnivore; DepthImageDataset's
# docstring gives the layout and how the release's per-scan folders map to it)
sunrgbd_train = dict(type='DepthImageDataset', data_root='data/sunrgbd', ann_file='train.txt',
                     classes='data/sunrgbd/classes.txt', pipeline=depth_train)
sunrgbd_val = dict(sunrgbd_train, ann_file='test.txt', pipeline=depth_test)
# ModelNet40 (modelnet40_normal_resampled) and ShapeNetPart (..._v0_normal), Point-MAE's layouts
modelnet_train = dict(type='ModelNetDataset', data_root='data/modelnet40_normal_resampled',
                      split='train', pipeline=point_train)
modelnet_val = dict(modelnet_train, split='test', pipeline=point_test)
shapenet_train = dict(type='ShapeNetPartDataset',
                      data_root='data/shapenetcore_partanno_segmentation_benchmark_v0_normal',
                      split='trainval', pipeline=part_train)
shapenet_val = dict(shapenet_train, split='test', pipeline=part_test)
# Table 7's dense classification tasks and its point segmentation, in their releases' layouts:
# Places365-Standard (256×256 images and lists), Moments in Time (Moments_in_Time_Raw: CSVs and
# clips), S3DIS (Stanford3dDataset_v1.2_Aligned_Version; Area 5 held out)
places_train = dict(type='Places365Dataset', data_root='data/places365', split='train',
                    pipeline=image_train)
places_val = dict(places_train, split='val', pipeline=image_test)
moments_train = dict(type='MomentsInTimeDataset', data_root='data/Moments_in_Time_Raw',
                     ann_file='trainingSet.csv', data_prefix='training', pipeline=video_train)
moments_val = dict(moments_train, ann_file='validationSet.csv', data_prefix='validation',
                   pipeline=video_test)
s3dis_train = dict(type='S3DISDataset', data_root='data/Stanford3dDataset_v1.2_Aligned_Version',
                   areas=(1, 2, 3, 4, 6), pipeline=s3dis_pipeline)
s3dis_val = dict(s3dis_train, areas=(5, ))
# English Wikipedia as one sentence per line (the paper's text pretraining data)
wikipedia = dict(type='TextClsDataset', data_root='data/wikipedia', ann_file='wiki.txt',
                 pipeline=text_pipeline)
# GLUE SST-2 (the paper reports GLUE; its single-sentence task in GLUE's own tsv layout)
sst2_train = dict(type='TextClsDataset', data_root='data/glue/SST-2', ann_file='train.tsv',
                  classes=('negative', 'positive'), pipeline=text_pipeline)
sst2_val = dict(sst2_train, ann_file='dev.tsv')

batch_size = 64  # per GPU, 8 GPUs; not in the paper
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=8,
    persistent_workers=True,
    collate_fn=dict(type='omnivec_collate'),
    sampler=dict(type='ModalityMixingSampler', batch_size=batch_size),
    dataset=dict(type='MultiSourceDataset'))  # each stage sets its sources

val_dataloader = dict(  # each stage sets its sources, here and in test_dataloader
    batch_size=batch_size,
    num_workers=8,
    persistent_workers=True,
    collate_fn=dict(type='omnivec_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MultiSourceDataset'))
test_dataloader = val_dataloader
val_cfg = dict()
test_cfg = dict()

# AdamW without decay on norms, biases, tokens and position tables (MAE's practice); each stage
# sets the learning rate and betas, and AMP (`amp` in its name). The paper gives no optimiser.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0., flat_decay_mult=0.,
                       custom_keys={'cls_token': dict(decay_mult=0.),
                                    'pos_embed': dict(decay_mult=0.),
                                    'none_embed': dict(decay_mult=0.)}))

# a batch leaves the other modalities' encoders and heads without gradients
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
# OmniVec has no pathway: of the M2PT hooks only the checkpoint check is kept, reporting instead of
# refusing: each stage starts from the previous one's checkpoint, whose heads differ (a pathway
# mismatch is still refused)
custom_hooks = [
    dict(type='CheckpointCheckHook', strict=False),
    # as ../../_base_/m2pt_runtime.py: exact resume with random augmentation, NaN loss stops
    dict(type='ResumableRandomnessHook'),
    dict(type='FiniteLossHook', interval=1),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=100),
                     checkpoint=dict(interval=10, max_keep_ckpts=3))
randomness = dict(seed=0, deterministic=False)
