# The registrations, hooks, checkpoint hook and visualiser backends of every m2pt_mm run, as named
# values only: this file defines no key an upstream config defines, so any config can list it as a
# base, also one whose upstream recipe already has custom_hooks (DeiT's EMAHook). ./m2pt_runtime.py
# turns them into keys; a base that cannot list that mixin sets them itself
# (`custom_hooks = [..., *_base_.m2pt_hooks]`).
m2pt_imports = ['m2pt_mm.models', 'm2pt_mm.engine', 'm2pt_mm.datasets', 'm2pt_mm.evaluation']

m2pt_hooks = [
    dict(type='MergePathwayHook'),  # `X_deploy.pth` (merged) beside every checkpoint `X.pth`
    dict(type='ScaleLoggerHook', interval=50),  # λ statistics to the visualiser, table per epoch
    dict(type='CheckpointCheckHook', strict=True),  # no silent strict=False on load_from/resume
    # every random draw (crops, Mixup/CutMix, drop path, workers) a function of seed, epoch and
    # iteration: mmengine seeds once per process, so a resumed run would augment differently
    dict(type='ResumableRandomnessHook'),
    dict(type='FiniteLossHook', interval=1),  # a NaN/inf loss stops the run, naming the iteration
]

# An upstream runtime defines default_hooks and visualizer; each base composing one with the mixin
# sets `default_hooks = dict(checkpoint={{_base_.m2pt_checkpoint_hook}})` and
# `visualizer = dict(vis_backends={{_base_.m2pt_vis_backends}})`. Each checkpoint file is written
# through a temporary file + rename, and every save in a crash-safe order (new checkpoint, its
# deploy twin, last_checkpoint, then rotation): a killed save never loses the last good checkpoint
# nor leaves a file resume would trust. TensorBoard reads the runs.
m2pt_checkpoint_hook = dict(type='CrashSafeCheckpointHook',
                            backend_args=dict(backend='atomic_local'))
m2pt_vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
