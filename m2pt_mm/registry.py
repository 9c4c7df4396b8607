"""Registries of m2pt_mm.

Models (the backbone, necks, heads) register into the OpenMMLab libraries' own registries, so
configs of mmpretrain, mmdet and mmseg reach them (``type='mmpretrain.M2PTVisionTransformer'``).
Tokenizers have a registry of their own: they are built by the backbone, whatever library's
default scope is active, so they must not depend on scope switching.
"""
from typing import Any, Dict

from mmengine.registry import Registry
from torch import nn

TOKENIZERS = Registry('tokenizer', scope='m2pt_mm', locations=['m2pt_mm.models.tokenizers'])

#: The modalities the toolbox knows (datasets tag their samples with them, OmniVec encodes them),
#: in the order of OmniVec's meta modality embedding: a checkpoint's ``meta.modality_embed`` rows
#: follow it, so append, never reorder.
MODALITIES = ('image', 'depth', 'audio', 'video', 'point', 'text')


def tokenizer_class(kind: Any) -> type:
    """The class registered as ``kind`` (a class passes through).

    Raises:
        KeyError: not a registered tokenizer (the message lists the registered ones).
    """
    if isinstance(kind, type):
        return kind
    TOKENIZERS.import_from_location()
    cls = TOKENIZERS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise KeyError(f'unknown tokenizer type {kind!r}; registered tokenizers: '
                       f'{sorted(TOKENIZERS.module_dict)}')
    return cls


def build_tokenizer(cfg: Dict[str, Any], **default_args: Any) -> nn.Module:
    """Build a tokenizer from ``dict(type=..., **kwargs)``; ``default_args`` fill unset keys."""
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'tokenizer must be a dict with a "type" key, got {cfg!r}')
    cfg = dict(cfg)
    cls = tokenizer_class(cfg.pop('type'))
    return cls(**{**default_args, **cfg})
