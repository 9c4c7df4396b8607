# OmniVec fine-tuning at the paper's scale (§4, Table 13: the OmniVec-4 network fine-tuned on one
# dataset with its standard train set; the other datasets' fine-tunings inherit this recipe):
# ImageNet-1k classification from the stage-2 network
# (load_from: the image encoder, projection, meta tokens, trunk, vectorizer and the imagenet_cls
# head; the other modalities' parts are reported as not used). The paper gives no fine-tuning
# recipe: 100 epochs, AdamW lr 5e-4 x batch / 1024, wd 0.05, label smoothing 0.1, 5 warmup
# epochs and cosine, as MAE's ViT-B fine-tuning (without its RandAugment, Mixup/CutMix and layer
# decay).
_base_ = ['./_base_/omnivec_vit-base-p16_multimodal.py']

__paper_rows__ = dict(paper='OmniVec', table=13, setting='fine-tuned', row='OmniVec',
                      columns=['ImageNet1K top-1'])

max_epochs = 100
warmup_epochs = 5
batch_size = 64  # per GPU, the base's train_dataloader.batch_size
world_size = 8
load_from = ('work_dirs/omnivec-4_vit-base-p16_omnivec-mae-pre_8xb64-amp-tg-900e_multitask/'
             'epoch_900.pth')

model = dict(
    encoders=dict(_delete_=True, image={{_base_.model.encoders.image}}),
    heads=dict(imagenet_cls=dict(type='LinearClsHead', modality='image', num_classes=1000,
                                 loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                                           mode='original'))))

imagenet = dict(modality='image', task='imagenet_cls', task_group='simple')
train_dataloader = dict(dataset=dict(sources=dict(
    imagenet=dict(dataset={{_base_.imagenet_train}}, **imagenet))))
val_dataloader = dict(dataset=dict(sources=dict(
    imagenet=dict(dataset={{_base_.imagenet_val}}, **imagenet))))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='AmpOptimWrapper', loss_scale='dynamic',  # `amp` in the name
    optimizer=dict(lr=5e-4 * batch_size * world_size / 1024, betas=(0.9, 0.999)))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
auto_scale_lr = dict(base_batch_size=batch_size * world_size)
