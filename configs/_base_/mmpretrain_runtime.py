# The runtime of the configs mmpretrain builds (classification, audio, video, point, MAE):
# mmpretrain's default runtime + the library-neutral m2pt_mm mixin (./m2pt_runtime.py), with
# atomic checkpoint writes and TensorBoard. mmdet / mmseg configs take their own library's runtime
# + ./m2pt_runtime.py instead.
_base_ = ['mmpretrain::_base_/default_runtime.py', './m2pt_runtime.py']

default_hooks = dict(
    # each file written through a temporary file + rename, and every save in a crash-safe order
    # (new checkpoint, its deploy twin, last_checkpoint, then rotation): a killed save never loses
    # the last good checkpoint nor leaves a file resume would trust
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=1,
                    backend_args=dict(backend='atomic_local')))

visualizer = dict(
    type='UniversalVisualizer',
    vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
