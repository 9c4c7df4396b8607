# The from-scratch recipe (paper §4.1: "widely adopted training configurations"): DeiT-B on
# ImageNet-1K as mmpretrain ships it — 300 epochs, AdamW lr 1e-3 (5e-4 × 1024 / 512), weight decay
# 0.05, cosine with 20 warm-up epochs, Mixup 0.8, CutMix 1.0, RandAugment, label smoothing 0.1,
# drop path 0.1, EMA, grad clip 5. The M2PT backbone replaces mmpretrain's ViT; no pathway here.
_base_ = 'mmpretrain::deit/deit-base_16xb64_in1k.py'

custom_imports = dict(imports=['m2pt_mm.models', 'm2pt_mm.engine'], allow_failed_imports=False)

model = dict(backbone=dict(type='M2PTVisionTransformer', arch='base'))  # no pathway: the baseline

optim_wrapper = dict(
    # no layer decay from scratch (rate 1.0); the constructor still keeps λ out of weight decay
    constructor='PathwayLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=1.0))

# DeiT's EMA, then the M2PT hooks (as in ../../_base_/m2pt_runtime.py, which cannot be a second
# base here because DeiT's config already defines custom_hooks)
custom_hooks = [
    dict(type='EMAHook', momentum=4e-5, priority='ABOVE_NORMAL'),
    dict(type='MergePathwayHook'),
    dict(type='ScaleLoggerHook', interval=50),
    dict(type='CheckpointCheckHook', strict=True),
    dict(type='ResumableRandomnessHook'),
    dict(type='FiniteLossHook', interval=1),
]
# saves in a crash-safe order (new file, pointer, then rotation), each file written atomically
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook',
                                     backend_args=dict(backend='atomic_local')))
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
auto_scale_lr = dict(base_batch_size=1024)
