# The MAE fine-tuning recipe (He et al. 2022; paper §4.1: "default finetuning configurations
# described by the corresponding pretraining methods") with the M2PT backbone and no pathway:
# 100 epochs (5 warm-up), AdamW, lr 2e-3 = 5e-4 × 1024 / 256 (8 GPUs × 128), weight decay 0.05,
# layer decay 0.65, drop path 0.1, Mixup 0.8, CutMix 1.0, RandAugment (9, 0.5), random erasing
# 0.25, label smoothing 0.1, average pooling + fc_norm. All of it comes from mmpretrain's config.
_base_ = [
    'mmpretrain::mae/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py',
    '../../_base_/m2pt_runtime.py',
]

__reproduce_notes__ = [
    "Patches are 16 × 16, as in MAE's ViT-B/16 weights and the official M2PT image code "
    "(`vit_base_patch16`); the paper's text (§3.1) says S = 14 by default.",
]

# target W: MAE-pretrained ViT-B/16 (facebookresearch/mae `mae_pretrain_vit_base.pth`, read as is)
mae_checkpoint = 'checkpoints/mae_pretrain_vit_base.pth'

model = dict(
    backbone=dict(
        type='M2PTVisionTransformer',  # mmpretrain's ViT-B/16 arch: 16 × 16 patches, not S = 14
        init_cfg=dict(type='Pretrained', checkpoint=mae_checkpoint)))  # no pathway: the baseline

optim_wrapper = dict(
    # mmpretrain's layer-decay constructor + λ without weight decay, W′/λ at their block's depth
    constructor='PathwayLayerDecayOptimWrapperConstructor',
    # mmpretrain's MAE config inherits Swin's schedule, whose custom_keys name Swin-only
    # parameters (.absolute_pos_embed, .relative_position_bias_table); our constructor refuses a
    # key that matches no parameter, so the ViT's own four keys (MAE's) replace the merged set
    paramwise_cfg=dict(custom_keys={
        '_delete_': True,
        '.ln': dict(decay_mult=0.0),
        '.bias': dict(decay_mult=0.0),
        '.cls_token': dict(decay_mult=0.0),
        '.pos_embed': dict(decay_mult=0.0),
    }))

# the checkpoint hook and TensorBoard of every m2pt_mm run (../../_base_/m2pt_runtime.py)
default_hooks = dict(checkpoint={{_base_.m2pt_checkpoint_hook}})
visualizer = dict(vis_backends={{_base_.m2pt_vis_backends}})
auto_scale_lr = dict(base_batch_size=1024)
