# ESC-50 (fold 1 held out; run val_fold=1..5 and average for the 5-fold protocol) with the
# AudioSet-2k recipe (./audiomae-ft_vit-base-p16_4xb8-amp-60e_audioset-2k.py) carried over, changed
# only where the data differ, as AudioMAE's main_finetune_*.py tables do: 512 frames (5 s clips),
# the ESC-50 fbank statistics, 50 single-label classes with softmax cross-entropy and top-1/top-5
# accuracy. AudioMAE's own ESC-50 schedule (main_finetune_esc.py) was not checked: epochs, lr and
# batch are the AS-20K ones, an assumption; so are the augmentations carried over with them (roll
# + magnitude, waveform mixup p 0.5 whose mixed label vectors train the softmax cross-entropy as
# soft targets, token masking 0.2 / 0.2 on the 32 x 8 grid -> 25 x 6 kept, AMP). The frozen sin-cos
# table is AudioMAE's 64 x 8 one resized to 32 x 8 when the checkpoint loads.
_base_ = './audiomae-ft_vit-base-p16_4xb8-amp-60e_audioset-2k.py'

data_root = 'data/ESC-50-master'
num_classes = 50
num_frames = 512

model = dict(
    backbone=dict(tokenizer=dict(num_frames=num_frames)),  # AudioMAE's 64x8 table is resized
    head=dict(type='LinearClsHead', num_classes=num_classes,
              loss=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0)))
data_preprocessor = dict(num_classes=num_classes)

fbank_stats = dict(mean=-6.6268077, std=5.358466)  # AudioMAE norm_stats['esc50']
# the AudioSet pipelines (LoadAudioFromFile resamples ESC-50's 44.1 kHz to 16 kHz) with the ESC-50
# frames and statistics: each transform's keys here replace the recipe's
transform_overrides = dict(KaldiFbank=dict(target_length=num_frames), NormalizeFbank=fbank_stats)
train_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.test_pipeline]
train_dataloader = dict(
    dataset=dict(_delete_=True, type='ESC50Dataset', data_root=data_root, split='train',
                 val_fold=1, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(_delete_=True, type='ESC50Dataset', data_root=data_root, split='val',
                 val_fold=1, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='accuracy/top1'))
