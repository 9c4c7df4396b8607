# OmniVec at CPU size, shared by the tiny chain (masked pretraining → task-grouped training →
# fine-tuning): the model without heads, each modality's pipeline and its train/val sources.
# Every size is the demo's tiny ViT (4 blocks × 64 dims, 4 heads, MLP 128; configs/demo/), so
# the trained trunk is also an M2PT auxiliary model for the demo's target.
#
# Data (relative to the working directory), written once by
#   python -m m2pt_mm.testing.omnivec data/omnivec-tiny
# in the real on-disk formats: digits/ (scikit-learn's digit scans, ImageNet folder 32×32),
# esc50/ (ESC-50 layout, 1-s tones, 3 classes), kinetics/ (Kinetics list files, mp4 clips of a
# moving bar, 2 classes), modelnet40/ and shapenetpart/ (Point-MAE's txt layouts, spheres /
# cubes / cylinders), text/ (GLUE-style tsv about digits, shapes, tones, motions, 4 classes; its
# WordPiece vocab.json built from corpus.txt); for Table 7's dense group places365/ (Places365-
# Standard's lists, striped 32×32 scenes, 3 classes), moments/ (Moments in Time's CSVs, moving-bar
# clips, 2 classes) and s3dis/ (S3DIS's Area_N/<room>/Annotations/*.txt, 13 classes).
_base_ = ['../../_base_/mmpretrain_runtime.py', '../../_base_/tiny_cpu_run.py']

data_root = 'data/omnivec-tiny'
vocab_size = 256  # the text vocabulary's upper bound (build_text_vocab(vocab_size=256))
text_length = 16
num_points = 256
num_frames = 32  # fbank frames (≈ 0.3 s of the 1-s clips) and mel bins: 4 × 4 patches of 8
batch_size = 10  # 2 samples of each of 5 sources with uniform proportions

model = dict(
    type='OmniVec',
    data_preprocessor=dict(
        type='OmniVecDataPreprocessor',
        # digits are 0..255 RGB; fbanks, clips and points are normalised by their pipelines
        preprocessors=dict(image=dict(type='ClsDataPreprocessor', mean=[127.5] * 3,
                                      std=[127.5] * 3, to_rgb=False))),
    trunk=dict(arch=dict(_base_.tiny_arch), drop_path_rate=0.),
    encoders=dict(  # depth 0: tokenizer + positions, the form that exports to a plain ViT
        image=dict(tokenizer=dict(type='ImageTokenizer', img_size=32, patch_size=8)),
        audio=dict(tokenizer=dict(type='AudioTokenizer', num_frames=num_frames,
                                  num_mel_bins=num_frames, patch_size=8)),
        video=dict(tokenizer=dict(type='VideoTokenizer', num_frames=4, img_size=32,
                                  patch_size=8, tubelet_size=2)),
        point=dict(tokenizer=dict(type='PointTokenizer', num_groups=16, group_size=8)),
        text=dict(tokenizer=dict(type='TextTokenizer', vocab_size=vocab_size,
                                 max_length=text_length))),
    vectorizer=dict(out_dims=64, num_tokens=4),
    heads=dict())  # each stage sets its heads

# ------------------------------------------------------------------ pipelines, one per modality
image_train = [dict(type='LoadImageFromFile'), dict(type='RandomCrop', crop_size=32, padding=2),
               dict(type='PackInputs')]
image_test = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
fbank_stats = dict(mean=-6.6268077, std=5.358466)  # AudioMAE norm_stats['esc50']
audio_test = [
    dict(type='LoadAudioFromFile', sample_rate=16000),
    dict(type='KaldiFbank', num_mel_bins=num_frames, target_length=num_frames),
    dict(type='NormalizeFbank', **fbank_stats),
    dict(type='PackInputs', input_key='fbank'),
]
audio_train = audio_test
video_train = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2),
    dict(type='PyAVDecode'),
    dict(type='VideoResize', short_side=32),
    dict(type='VideoCrop', crop_size=32, random_crop=True),
    dict(type='VideoNormalize'),
    dict(type='PackInputs', input_key='imgs'),
]
video_test = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='VideoResize', short_side=32),
    dict(type='VideoCrop', crop_size=32),
    dict(type='VideoNormalize'),
    dict(type='PackInputs', input_key='imgs'),
]
point_train = [
    dict(type='LoadPointCloud'),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='random', replace=True),
    dict(type='PackInputs', input_key='points'),
]
point_test = point_train
part_train = [
    dict(type='LoadPointCloud', with_seg_label=True),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='random', replace=True),
    dict(type='PackInputs', input_key='points', algorithm_keys=('gt_seg_label', )),
]
part_test = part_train
s3dis_pipeline = [
    dict(type='LoadS3DISRoom'),
    dict(type='PointNormalize'),
    dict(type='PointSample', num_points=num_points, method='random', replace=True),
    dict(type='PackInputs', input_key='points', algorithm_keys=('gt_seg_label', )),
]
text_test = [
    dict(type='TokenizeText', vocab_file=f'{data_root}/text/vocab.json', max_length=text_length),
    dict(type='PackInputs', input_key='input_ids',
         meta_keys=('sample_idx', 'text_length', 'truncated')),
]
text_train = text_test

# ------------------------------------------------------------------ the datasets
text_classes = ('digit', 'shape', 'tone', 'motion')  # m2pt_mm.testing.text.TEXT_CLASSES
digits_train = dict(type='CustomDataset', data_root=f'{data_root}/digits',
                    ann_file='meta/train.txt', data_prefix='train', pipeline=image_train)
digits_val = dict(type='CustomDataset', data_root=f'{data_root}/digits', ann_file='meta/val.txt',
                  data_prefix='val', pipeline=image_test)
esc50_train = dict(type='ESC50Dataset', data_root=f'{data_root}/esc50', split='train',
                   val_fold=1, num_classes=3, pipeline=audio_train)
esc50_val = dict(esc50_train, split='val', pipeline=audio_test)
kinetics_train = dict(type='KineticsDataset', data_root=f'{data_root}/kinetics',
                      ann_file='kinetics_train_list.txt', data_prefix='videos', num_classes=2,
                      pipeline=video_train)
kinetics_val = dict(kinetics_train, ann_file='kinetics_val_list.txt', pipeline=video_test)
modelnet_train = dict(type='ModelNetDataset', data_root=f'{data_root}/modelnet40', split='train',
                      pipeline=point_train)
modelnet_val = dict(modelnet_train, split='test', pipeline=point_test)
shapenet_train = dict(type='ShapeNetPartDataset', data_root=f'{data_root}/shapenetpart',
                      split='trainval', pipeline=part_train)
shapenet_val = dict(shapenet_train, split='test', pipeline=part_test)
places_train = dict(type='Places365Dataset', data_root=f'{data_root}/places365', split='train',
                    num_classes=3, pipeline=image_train)
places_val = dict(places_train, split='val', pipeline=image_test)
moments_train = dict(type='MomentsInTimeDataset', data_root=f'{data_root}/moments',
                     ann_file='trainingSet.csv', data_prefix='training', num_classes=2,
                     pipeline=video_train)
moments_val = dict(moments_train, ann_file='validationSet.csv', data_prefix='validation',
                   pipeline=video_test)
s3dis_train = dict(type='S3DISDataset', data_root=f'{data_root}/s3dis', areas=(1, ),
                   pipeline=s3dis_pipeline)
s3dis_val = dict(s3dis_train, areas=(5, ))  # Area 5 held out, as the benchmark
text_train_set = dict(type='TextClsDataset', data_root=f'{data_root}/text', ann_file='train.tsv',
                      classes=text_classes, pipeline=text_train)
text_val_set = dict(text_train_set, ann_file='dev.tsv', pipeline=text_test)
text_corpus = dict(type='TextClsDataset', data_root=f'{data_root}/text', ann_file='corpus.txt',
                   pipeline=text_train)

train_dataloader = dict(
    batch_size=batch_size,
    **_base_.tiny_dataloader,
    collate_fn=dict(type='omnivec_collate'),
    sampler=dict(type='ModalityMixingSampler', batch_size=batch_size),  # uniform proportions
    dataset=dict(type='MultiSourceDataset'))  # each stage sets its sources

val_dataloader = dict(  # each stage sets its sources, here and in test_dataloader
    batch_size=16,
    **_base_.tiny_dataloader,
    collate_fn=dict(type='omnivec_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MultiSourceDataset'))
test_dataloader = val_dataloader
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
    # no decay on norms, biases, tokens and position tables (MAE's and mmpretrain's practice)
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0., flat_decay_mult=0.,
                       custom_keys={'cls_token': dict(decay_mult=0.),
                                    'pos_embed': dict(decay_mult=0.),
                                    'none_embed': dict(decay_mult=0.)}))

# a batch leaves the other modalities' encoders and heads without gradients (several GPUs)
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
default_hooks = dict(_base_.tiny_hooks, logger=dict(type='LoggerHook', interval=10))
visualizer = dict(type='UniversalVisualizer', vis_backends=[dict(type='LocalVisBackend')])
randomness = _base_.tiny_randomness
