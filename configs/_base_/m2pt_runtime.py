# What every m2pt_mm run adds to an upstream runtime (mmpretrain, mmdet or mmseg): the m2pt_mm
# registrations and the M2PT hooks. A mixin: it defines only keys no upstream base defines, so it
# composes with any of them (`_base_ = ['mmdet::...', '../_base_/m2pt_runtime.py']`). A base that
# already has custom_hooks (e.g. DeiT's EMAHook, OmniVec's) lists these hooks itself instead.
custom_imports = dict(
    imports=['m2pt_mm.models', 'm2pt_mm.engine', 'm2pt_mm.datasets', 'm2pt_mm.evaluation'],
    allow_failed_imports=False)

custom_hooks = [
    dict(type='MergePathwayHook'),  # `X_deploy.pth` (merged) beside every checkpoint `X.pth`
    dict(type='ScaleLoggerHook', interval=50),  # λ statistics to the visualiser, table per epoch
    dict(type='CheckpointCheckHook', strict=True),  # no silent strict=False on load_from/resume
    # every random draw (crops, Mixup/CutMix, drop path, workers) a function of seed, epoch and
    # iteration: mmengine seeds once per process, so a resumed run would augment differently
    dict(type='ResumableRandomnessHook'),
    dict(type='FiniteLossHook', interval=1),  # a NaN/inf loss stops the run, naming the iteration
]
