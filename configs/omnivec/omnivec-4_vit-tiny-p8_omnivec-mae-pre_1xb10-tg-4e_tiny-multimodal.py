# OmniVec stage 2 at CPU size, the paper's setting (§3.2, Table 8's OmniVec-4): task grouping and
# modality mixing on five modalities, from the stage-1 trunk. Task groups (Table 7's rule:
# classification is simple, segmentation dense): simple = digits, ESC-50, Kinetics, ModelNet40
# and text classification, dense = ShapeNetPart part segmentation. The TaskGroupEpochBasedTrainLoop
# alternates 1 simple epoch and 1 dense epoch (the paper: 2 and 2 of E = 900) for 4 epochs; in a
# simple epoch every batch mixes the five simple sources (2 each), a dense epoch is ShapeNetPart
# only. Each task is evaluated on its own samples (TaskMetric).
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
    # Point-MAE's part segmentation head on the last 3 of the 4 blocks, each through the final norm
    shapenetpart_seg=dict(type='PointPartSegHead', modality='point', input='featmap',
                          in_indices=(1, 2, 3), norm_outs=True, num_classes=50,
                          num_categories=16, label_channels=16, fp_channels=(128, 64),
                          mid_channels=(64, 32))))

simple, dense = dict(task_group='simple'), dict(task_group='dense')
train_dataloader = dict(dataset=dict(sources=dict(
    digits=dict(dataset={{_base_.digits_train}}, modality='image', task='digits_cls', **simple),
    esc50=dict(dataset={{_base_.esc50_train}}, modality='audio', task='esc50_cls', **simple),
    kinetics=dict(dataset={{_base_.kinetics_train}}, modality='video', task='kinetics_cls',
                  **simple),
    modelnet=dict(dataset={{_base_.modelnet_train}}, modality='point', task='modelnet_cls',
                  **simple),
    text=dict(dataset={{_base_.text_train_set}}, modality='text', task='text_cls', **simple),
    shapenet=dict(dataset={{_base_.shapenet_train}}, modality='point', task='shapenetpart_seg',
                  **dense))))
val_dataloader = dict(dataset=dict(sources=dict(
        digits=dict(dataset={{_base_.digits_val}}, modality='image', task='digits_cls', **simple),
        esc50=dict(dataset={{_base_.esc50_val}}, modality='audio', task='esc50_cls', **simple),
        kinetics=dict(dataset={{_base_.kinetics_val}}, modality='video', task='kinetics_cls',
                      **simple),
        modelnet=dict(dataset={{_base_.modelnet_val}}, modality='point', task='modelnet_cls',
                      **simple),
        text=dict(dataset={{_base_.text_val_set}}, modality='text', task='text_cls', **simple),
        shapenet=dict(dataset={{_base_.shapenet_val}}, modality='point',
                      task='shapenetpart_seg', **dense))))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='TaskMetric', task=task, metric=dict(type='Accuracy'))
    for task in ('digits_cls', 'esc50_cls', 'kinetics_cls', 'modelnet_cls', 'text_cls')
] + [dict(type='TaskMetric', task='shapenetpart_seg', metric=dict(type='ShapeNetPartMIoU'))]
test_evaluator = val_evaluator

train_cfg = dict(type='TaskGroupEpochBasedTrainLoop', max_epochs=max_epochs,
                 groups=('simple', 'dense'), epochs_per_group=(1, 1), val_interval=max_epochs)
