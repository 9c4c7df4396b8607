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

# The checkpoint hook and the visualiser backends of every m2pt_mm run. An upstream runtime defines
# default_hooks and visualizer, so this mixin cannot; each base that composes it with one sets them
# from here: `default_hooks = dict(checkpoint={{_base_.m2pt_checkpoint_hook}})` and
# `visualizer = dict(vis_backends={{_base_.m2pt_vis_backends}})`. Each checkpoint file is written
# through a temporary file + rename, and every save in a crash-safe order (new checkpoint, its
# deploy twin, last_checkpoint, then rotation): a killed save never loses the last good checkpoint
# nor leaves a file resume would trust. TensorBoard reads the runs.
m2pt_checkpoint_hook = dict(type='CrashSafeCheckpointHook',
                            backend_args=dict(backend='atomic_local'))
m2pt_vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
