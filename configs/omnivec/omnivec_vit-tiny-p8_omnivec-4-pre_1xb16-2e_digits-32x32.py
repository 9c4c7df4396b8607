# OmniVec stage 3 at CPU size: fine-tuning one task on one dataset from the jointly trained network
# (paper §4, Table 13: "fine-tuning the OmniVec-4 model on each of the datasets"): digit
# classification, the image encoder, projection, trunk, vectorizer and head of stage 2
# (load_from; the other modalities' encoders, projections and heads are reported as not used).
# Data: python -m m2pt_mm.testing.omnivec data/omnivec-tiny.
_base_ = ['./_base_/omnivec_vit-tiny-p8_tiny-multimodal.py']

max_epochs = 2
batch_size = 16
load_from = ('work_dirs/omnivec-4_vit-tiny-p8_omnivec-mae-pre_1xb10-tg-4e_tiny-multimodal/'
             'epoch_4.pth')

model = dict(
    encoders=dict(_delete_=True, image={{_base_.model.encoders.image}}),
    heads=dict(digits_cls=dict(type='LinearClsHead', modality='image', num_classes=10)))

digits = dict(modality='image', task='digits_cls', task_group='simple')
train_dataloader = dict(
    batch_size=batch_size,
    sampler=dict(batch_size=batch_size),  # one source: every batch is digits
    dataset=dict(sources=dict(digits=dict(dataset={{_base_.digits_train}}, **digits))))
val_dataloader = dict(
    batch_size=120,
    dataset=dict(sources=dict(digits=dict(dataset={{_base_.digits_val}}, **digits))))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

param_scheduler = [dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
                        end=max_epochs)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
