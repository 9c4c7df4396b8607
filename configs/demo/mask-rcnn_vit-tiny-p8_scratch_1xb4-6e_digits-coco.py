# A tiny Mask R-CNN for tests, CPU demos and acceptance runs: the COCO recipe of
# configs/detection/ with a 4-block × 64 ViT (8×8 patches) from scratch, on the digit scenes
# written by `python tools/data/digits_to_coco_ade20k.py data/digits_scenes` (COCO json + JPEGs),
# evaluated with mmdet's CocoMetric (pycocotools, bbox + segm). Plain ViT: M2PT is the child config.
_base_ = [
    '../detection/_base_/mask-rcnn_vit-base-p16_16xb4-lsj-100e_coco.py',  # fp32: CPU has no AMP
    '../_base_/tiny_cpu_run.py',
]

data_root = 'data/digits_scenes/coco/'
image_size = (128, 128)
metainfo = dict(
    classes=tuple(f'digit-{d}' for d in range(10)),
    palette=[(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
             (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 190)])

model = dict(
    data_preprocessor=dict(
        batch_augments=[dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)]),
    backbone=dict(
        arch=dict(_delete_=True, **_base_.tiny_arch),
        img_size=128,
        patch_size=8,
        drop_path_rate=0.,
        out_indices=(3, )),
    neck=dict(
        in_channels=64,
        out_channels=64,  # heads 4× narrower than mmdet's 256: the mask head dominates on CPU
        rescales=(2, 1, 0.5, 0.25),  # 8×8 patches: strides 4, 8, 16, 32 as the heads expect
        norm_cfg=dict(type='BN', requires_grad=True)),  # one process, CPU: no SyncBN
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=10),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=10)),
    train_cfg=dict(rpn=dict(sampler=dict(num=128)), rcnn=dict(sampler=dict(num=128))))

# no flips: a mirrored digit is not a digit
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.8, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size,
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    **_base_.tiny_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CocoDataset', data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/instances_train.json', data_prefix=dict(img='train/'),
                 filter_cfg=dict(filter_empty_gt=True, min_size=8), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    **_base_.tiny_dataloader,
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='annotations/instances_val.json',
                 data_prefix=dict(img='val/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(
    optimizer=dict(lr=4e-4),
    # the tiny runs have always decayed the class token, which the recipe exempts: kept as it was
    paramwise_cfg=dict(custom_keys=dict(_delete_=True, **{'.pos_embed': dict(decay_mult=0.)})))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[5], gamma=0.1),
]
auto_scale_lr = dict(base_batch_size=4)
default_hooks = _base_.tiny_hooks
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = _base_.tiny_randomness
