# What every m2pt_mm run adds to an upstream runtime (mmpretrain, mmdet or mmseg): the m2pt_mm
# registrations and the M2PT hooks (their list: ./m2pt_hooks.py). A mixin: it defines only keys no
# upstream base defines, so it composes with any of them
# (`_base_ = ['mmdet::...', '../_base_/m2pt_runtime.py']). A base whose upstream recipe already has
# custom_hooks (DeiT's EMAHook) lists ./m2pt_hooks.py instead and sets the keys itself.
_base_ = ['./m2pt_hooks.py']

custom_imports = dict(imports=_base_.m2pt_imports, allow_failed_imports=False)
custom_hooks = _base_.m2pt_hooks
