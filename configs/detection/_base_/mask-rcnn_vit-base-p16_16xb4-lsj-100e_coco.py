# Mask R-CNN ViT-B/16 on COCO, the ViTDet / MAE detection recipe (Li et al. 2022, used by MAE and
# by the M2PT paper for COCO): large-scale jitter at 1024 (scale 0.1-2.0, padded to 1024²), 100
# epochs with steps at 88 and 96 (mmdet's lsj-100e base: 25 epochs of a 4× repeated train set,
# milestones 22 and 24), batch 64 (16 GPUs × 4), AdamW lr 1e-4, betas (0.9, 0.999), weight decay
# 0.1, layer decay 0.7, drop path 0.1 (in the model base). In fp32; ViTDet's mixed precision is
# added by the AMP sibling ./mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py (the tiny CPU config
# inherits this one). Target init and pathway: children.
_base_ = [
    'mmdet::common/lsj-100e_coco-instance.py',
    '../../_base_/models/mask-rcnn_m2pt-vit-base-p16.py',
    '../../_base_/m2pt_runtime.py',
]

image_size = (1024, 1024)
model = dict(
    data_preprocessor=dict(
        # LSJ trains on fixed 1024² canvases (ViTDet); images and masks are padded to it
        batch_augments=[dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)]))

train_dataloader = dict(batch_size=4, num_workers=8)  # × 16 GPUs = 64, ViTDet's batch

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    # mmpretrain's layer decay + λ without weight decay, W′/λ at their block's depth
    constructor='PathwayLayerDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    paramwise_cfg=dict(
        layer_decay_rate=0.7,  # ViTDet ViT-B
        norm_decay_mult=0.,  # LayerNorms of the backbone, BatchNorms of neck and heads
        bias_decay_mult=0.,
        custom_keys={'.pos_embed': dict(decay_mult=0.), '.cls_token': dict(decay_mult=0.)}))

# the checkpoint hook and TensorBoard of every m2pt_mm run (../../_base_/m2pt_runtime.py)
default_hooks = dict(checkpoint={{_base_.m2pt_checkpoint_hook}})
visualizer = dict(vis_backends={{_base_.m2pt_vis_backends}})
