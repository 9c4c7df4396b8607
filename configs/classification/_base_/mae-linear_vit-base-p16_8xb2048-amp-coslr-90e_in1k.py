# The paper's *fix* setting (Table 1 "fix acc") as MAE's linear probe (He et al. 2022, App. A.2;
# mmpretrain's mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py, inherited): every
# weight of the ViT frozen — W and, in M2PT children, W′ — while the Cross-Modal Scales λ and the
# linear head train. 90 epochs (10 warm-up, then cosine to 0), LARS with momentum 0.9, weight decay
# 0, batch 16384 = 8 GPUs × 2048, lr 6.4 = base lr 0.1 × 16384 / 256, AMP (as MAE's script);
# class token after the final norm, a BatchNorm without affine (ClsBatchNormNeck) before the
# linear head (trunc-normal std 0.01), random-resized crop + flip only. No pathway here.
# Differs from the official M2PT probing script, which gives only the head to the optimiser, so
# that its λ never moves: here λ trains, with plain momentum-SGD steps at the head's lr (λ is 1-D,
# outside LARS). Not tuned at ViT-B: on the digits probe (configs/demo/...-linear-...) this lr let
# |λ| grow to 12 (top-1 55.3 vs 45.3 without pathway), λ's lr_mult=0.004 kept |λ| ≤ 0.52 (50.8),
# one seed each. Set λ's own lr with custom_keys.cross_modal_scale.lr_mult (docs/configs.md) and
# watch the λ table ScaleLoggerHook logs.
_base_ = [
    'mmpretrain::mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py',
    '../../_base_/m2pt_runtime.py',
]

__reproduce_notes__ = [
    "Patches are 16 × 16, as in MAE's ViT-B/16 weights and the official M2PT image code "
    "(`vit_base_patch16`); the paper's text (§3.1) says S = 14 by default.",
]

# target W: MAE-pretrained ViT-B/16 (facebookresearch/mae `mae_pretrain_vit_base.pth`, read as is)
mae_checkpoint = 'checkpoints/mae_pretrain_vit_base.pth'

# The plain probe freezes the ViT with mmpretrain's frozen_stages=12 (inherited). An M2PT probe
# adds, with its pathway, `m2pt_probe`: fix_weights freezes every backbone parameter but λ
# (frozen_stages would freeze λ too); the head and neck are outside the backbone.
model = dict(
    backbone=dict(
        type='M2PTVisionTransformer',  # mmpretrain's ViT-B/16 arch: 16 × 16 patches, not S = 14
        init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=mae_checkpoint)))
m2pt_probe = dict(frozen_stages=-1, fix_weights=True)

# MAE's main_linprobe.py crops and resizes bicubically (interpolation=3; mmpretrain's config:
# bilinear)
transform_overrides = dict(RandomResizedCrop=dict(interpolation='bicubic'),
                           ResizeEdge=dict(interpolation='bicubic'))
train_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **transform_overrides.get(t.type, {})) for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

optim_wrapper = dict(
    constructor='PathwayLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=1.0,  # a probe has no layer decay: λ of every block gets the base lr
        # MAE's LARS adapts only parameters of ≥ 2 dimensions: the head's bias and the scalar λ
        # take plain momentum SGD steps (a trust ratio |λ|/|∇λ| on a scalar moves λ by a fraction
        # of itself each step: never across 0)
        custom_keys={
            '.bias': dict(lars_exclude=True),
            'cross_modal_scale': dict(lars_exclude=True),
        }))

# the checkpoint hook and TensorBoard of every m2pt_mm run (../../_base_/m2pt_runtime.py)
default_hooks = dict(checkpoint={{_base_.m2pt_checkpoint_hook}})
visualizer = dict(vis_backends={{_base_.m2pt_vis_backends}})
auto_scale_lr = dict(base_batch_size=16384)  # mmpretrain's schedule base says 1024: lr is for 16384
