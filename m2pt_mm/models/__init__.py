"""Registers m2pt_mm's models into mmpretrain's registry (reachable from mmdet/mmseg configs as
``type='mmpretrain.M2PTVisionTransformer'`` with
``custom_imports=dict(imports=['m2pt_mm.models'])``).
"""
from .backbones import *  # noqa: F401,F403
from .batch_augments import VideoCutMix  # noqa: F401
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .omnivec import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .selfsup import *  # noqa: F401,F403
from .tokenizers import *  # noqa: F401,F403
