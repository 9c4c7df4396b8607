# OmniVec stage 2 at CPU size, the paper's setting (§3.2, Table 8's OmniVec-4): task grouping and
# modality mixing, from the stage-1 trunk, with Table 7's groups, each a mix of modalities:
# - simple: digits (image; the paper: iNaturalist-2018), Kinetics (video), ESC-50 (audio),
#   ModelNet40 (points; the paper: ModelNet40-C) and text classification (text: an added task;
#   the paper's one text task, DialogueSUM summarisation, is dense and not reproduced — no
#   summarisation reader or head);
# - dense: Places-365 scene recognition (image) and Moments in Time action recognition (video),
#   classification tasks the paper puts in the dense group, and S3DIS semantic segmentation
#   (points), each in its release's layout.
# The TaskGroupEpochBasedTrainLoop alternates 1 simple epoch and 1 dense epoch (the paper: 2 and
# 2 of E = 900) for 4 epochs; every simple batch mixes the five simple sources (2 each), every
# dense batch the three dense ones (3-4 each): its iteration lines log the losses of the three
# dense tasks side by side. Each task is evaluated on its own samples (TaskMetric; S3DIS: mIoU
# over its 13 classes, points summed over rooms).
# Starts from stage 1 (load_from): the pretraining decoders are not in this model and the task
# heads are new: the checkpoint check reports both lists.
# Data: python -m m2pt_mm.testing.omnivec data/omnivec-tiny.
# Next stage: omnivec_vit-tiny-p8_omnivec-4-pre_1xb16-2e_digits-32x32.py.
_base_ = ['./_base_/omnivec_vit-tiny-p8_tiny-multimodal.py']

max_epochs = 4
load_from = 'work_dirs/omnivec-mae_vit-tiny-p8_1xb10-2e_tiny-multimodal/epoch_2.pth'

model = dict(heads=dict(
    digits_cls=dict(type='LinearClsHead', modality='image', num_classes=10),
    esc50_cls=dict(type='LinearClsHead', modality='audio', num_classes=3),
    kinetics_cls=dict(type='LinearClsHead', modality='video', num_classes=2),
    modelnet_cls=dict(type='LinearClsHead', modality='point', num_classes=40),
    text_cls=dict(type='LinearClsHead', modality='text', num_classes=4),
    places365_cls=dict(type='LinearClsHead', modality='image', num_classes=3),
    mit_cls=dict(type='LinearClsHead', modality='video', num_classes=2),
    # Point-MAE's segmentation head on the last 3 of the 4 blocks, each through the final norm;
    # no object category: a room is not one object
    s3dis_seg=dict(type='PointPartSegHead', modality='point', input='featmap',
                   in_indices=(1, 2, 3), norm_outs=True, num_classes=13, num_categories=None,
                   fp_channels=(128, 64), mid_channels=(64, 32))))

simple, dense = dict(task_group='simple'), dict(task_group='dense')
train_dataloader = dict(dataset=dict(sources=dict(
    digits=dict(dataset={{_base_.digits_train}}, modality='image', task='digits_cls', **simple),
    esc50=dict(dataset={{_base_.esc50_train}}, modality='audio', task='esc50_cls', **simple),
    kinetics=dict(dataset={{_base_.kinetics_train}}, modality='video', task='kinetics_cls',
                  **simple),
    modelnet=dict(dataset={{_base_.modelnet_train}}, modality='point', task='modelnet_cls',
                  **simple),
    text=dict(dataset={{_base_.text_train_set}}, modality='text', task='text_cls', **simple),
    places=dict(dataset={{_base_.places_train}}, modality='image', task='places365_cls',
                **dense),
    moments=dict(dataset={{_base_.moments_train}}, modality='video', task='mit_cls', **dense),
    s3dis=dict(dataset={{_base_.s3dis_train}}, modality='point', task='s3dis_seg', **dense))))
val_dataloader = dict(dataset=dict(sources=dict(
        digits=dict(dataset={{_base_.digits_val}}, modality='image', task='digits_cls', **simple),
        esc50=dict(dataset={{_base_.esc50_val}}, modality='audio', task='esc50_cls', **simple),
        kinetics=dict(dataset={{_base_.kinetics_val}}, modality='video', task='kinetics_cls',
                      **simple),
        modelnet=dict(dataset={{_base_.modelnet_val}}, modality='point', task='modelnet_cls',
                      **simple),
        text=dict(dataset={{_base_.text_val_set}}, modality='text', task='text_cls', **simple),
        places=dict(dataset={{_base_.places_val}}, modality='image', task='places365_cls',
                    **dense),
        moments=dict(dataset={{_base_.moments_val}}, modality='video', task='mit_cls', **dense),
        s3dis=dict(dataset={{_base_.s3dis_val}}, modality='point', task='s3dis_seg', **dense))))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='TaskMetric', task=task, metric=dict(type='Accuracy'))
    for task in ('digits_cls', 'esc50_cls', 'kinetics_cls', 'modelnet_cls', 'text_cls',
                 'places365_cls', 'mit_cls')
] + [dict(type='TaskMetric', task='s3dis_seg',
          metric=dict(type='PartNetMIoU', num_classes=13, ignore_index=None, prefix='s3dis'))]
test_evaluator = val_evaluator

train_cfg = dict(type='TaskGroupEpochBasedTrainLoop', max_epochs=max_epochs,
                 groups=('simple', 'dense'), epochs_per_group=(1, 1), val_interval=max_epochs)
