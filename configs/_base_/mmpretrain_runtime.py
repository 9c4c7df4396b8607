# The runtime of the configs mmpretrain builds (classification, audio, video, point, MAE):
# mmpretrain's default runtime + the library-neutral m2pt_mm mixin (./m2pt_runtime.py), with
# atomic checkpoint writes and TensorBoard. mmdet / mmseg configs take their own library's runtime
# + ./m2pt_runtime.py instead.
_base_ = ['mmpretrain::_base_/default_runtime.py', './m2pt_runtime.py']

default_hooks = dict(checkpoint={{_base_.m2pt_checkpoint_hook}})
visualizer = dict(vis_backends={{_base_.m2pt_vis_backends}})
