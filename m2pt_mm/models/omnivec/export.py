"""Export one modality of an OmniVec model to a plain ``M2PTVisionTransformer`` checkpoint.

For a fixed input shape the meta vector is a constant, so the FiLM projection is one linear map
``y = A t + c`` with ``A = diag(1 + γ) W`` and ``c = (1 + γ) ⊙ b + β``. With a depth-0 encoder
(tokenizer + positions ``P``) OmniVec computes::

    LN([cls, A (tokenizer(x) + P) + c])  → trunk blocks → ln1

and a ViT with ``pre_norm=True`` computes ``LN([cls, tokenizer'(x)] + pos) → blocks → ln1``. So
``A`` is folded into the tokenizer's last linear layer (patch / tubelet projection, text token
table, the point adjacency projection), ``c`` into its bias, by the tokenizer's own
:meth:`~m2pt_mm.models.tokenizers.BaseTokenizer.fold`; ``A P`` becomes the position table (the
tokenizer's, or the backbone's ``pos_embed`` whose class token position is zero), the
projection's LayerNorm becomes ``pre_norm`` and the trunk keys are the backbone's. The result
loads with ``strict=True`` and gives the same features.

Two targets (``target=``):

* ``'m2pt'`` (default): ``M2PTVisionTransformer`` with the exported tokenizer, every modality;
  ``c`` is the tokenizer's bias.
* ``'mmpretrain'``: mmpretrain's stock ``VisionTransformer(pre_norm=True)``, image-like inputs
  (image, depth, audio spectrogram: a conv patch embedding). Its patch embedding has no bias
  with ``pre_norm``, so ``c`` (a shift of every patch token, before the norm) is added to the
  patch rows of ``pos_embed`` instead, which is the same sum.
"""
import copy
from collections import OrderedDict
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from m2pt_mm.pathway import is_pathway_param, merge_state_dict

from ..tokenizers import TokenizerFold

#: What ``export_single_modality`` writes for: ``M2PTVisionTransformer`` or mmpretrain's
#: ``VisionTransformer``.
EXPORT_TARGETS = ('m2pt', 'mmpretrain')


def export_single_modality(model: nn.Module, modality: str,
                           input_shape: Optional[Sequence[int]] = None,
                           out_type: str = 'cls_token',
                           target: str = 'm2pt') -> Tuple['OrderedDict[str, Tensor]', dict]:
    """Fold ``model``'s ``modality`` encoder, projection and trunk into a plain ViT.

    Args:
        model: An ``OmniVec`` model.
        modality: The modality to export; its encoder must have ``depth=0``.
        input_shape: One sample's input shape (no batch axis), e.g. ``(3, 224, 224)``; the meta
            vector, and so the folded projection, is computed for it. Defaults to the
            tokenizer's configured size (point clouds must give it: ``(N, 3)``).
        out_type: ``out_type`` of the exported backbone.
        target: ``'m2pt'`` (``M2PTVisionTransformer``) or ``'mmpretrain'`` (mmpretrain's
            ``VisionTransformer``, image-like modalities only); see the module docstring.

    Returns:
        ``(state_dict, backbone_cfg)``: the target class built from ``cfg`` (``type`` removed)
        loads ``state_dict`` with ``strict=True`` and computes the trunk's features.

    Raises:
        KeyError: no encoder for ``modality``.
        ValueError: an encoder with blocks, a tokenizer that does not fold, a trunk with
            ``pre_norm``, an unknown target or one that cannot take the modality.
    """
    from ..backbones.m2pt_vit import M2PTVisionTransformer
    if target not in EXPORT_TARGETS:
        raise ValueError(f'target must be one of {EXPORT_TARGETS}, got {target!r}')
    if modality not in model.encoders:
        raise KeyError(f'no {modality!r} encoder to export; encoders: {sorted(model.encoders)}')
    encoder, projection, trunk = model.encoders[modality], model.projections[modality], model.trunk
    if encoder.depth:
        raise ValueError(f'the {modality} encoder has {encoder.depth} blocks of its own: only a '
                         'depth-0 encoder (tokenizer + positions) folds into a ViT tokenizer')
    tokenizer = encoder.tokenizer
    if input_shape is None:
        input_shape = tokenizer.input_shape()
        if input_shape is None:
            raise ValueError(f'give the {modality} input shape to export for (the folded '
                             'projection depends on it through the meta tokens)')
    shape = (1, *(int(n) for n in input_shape))
    with torch.no_grad():
        scale, shift = projection.modulation(model.meta_vector(modality, shape))
        A = scale[:, None] * projection.linear.weight  # [D, E]
        c = scale * projection.linear.bias + shift
        folded = tokenizer.fold(A, c, shape[1:])
        positions = None
        if tokenizer.host_pos_embed != 'none':  # the encoder's table: the backbone's pos_embed
            _, grid = tokenizer(torch.zeros(shape))
            positions = encoder.position_embedding(grid) @ A.T
    if target == 'mmpretrain' and folded.vit_patch_cfg is None:
        raise ValueError(f"target='mmpretrain' takes image-like inputs (ImageTokenizer, "
                         f"AudioTokenizer): mmpretrain's VisionTransformer embeds patches with "
                         f"a conv; export the {modality} encoder's "
                         f"{type(tokenizer).__name__} with target='m2pt'")
    tokenizer_cfg = folded.cfg

    trunk_state = trunk.state_dict()
    if any(is_pathway_param(k) for k in trunk_state):
        trunk_state = merge_state_dict(trunk_state)  # W + λW′: a plain ViT has W only
    state = OrderedDict((k, v.detach().clone()) for k, v in trunk_state.items())
    state.update((f'patch_embed.{k}', v.detach().clone()) for k, v in folded.state_dict.items())
    state['pre_norm.weight'] = projection.norm.weight.detach().clone()
    state['pre_norm.bias'] = projection.norm.bias.detach().clone()
    dims = trunk.embed_dims
    if target == 'mmpretrain':
        return _to_mmpretrain(model, state, folded, positions, out_type)
    if positions is not None:  # a backbone table, the class token's row zero
        rows = [positions.new_zeros(1, 1, dims)] if trunk.cls_token is not None else []
        state['pos_embed'] = torch.cat(rows + [positions.expand(1, -1, -1)], dim=1).detach()
    elif trunk.cls_token is not None:
        state['cls_pos'] = torch.zeros(1, 1, dims)

    cfg = {k: copy.deepcopy(v) for k, v in model.trunk_cfg.items()
           if k not in ('type', 'pathway', 'init_cfg')}
    cfg.update(type='M2PTVisionTransformer', arch=dict(trunk.arch_settings), pre_norm=True,
               with_cls_token=trunk.cls_token is not None, out_type=out_type,
               tokenizer=tokenizer_cfg)
    # the backbone arguments it would pass on to the tokenizer, set to the tokenizer's values
    cfg.update((k, tokenizer_cfg[k]) for k in ('img_size', 'patch_size', 'in_channels')
               if k in tokenizer_cfg)
    backbone = M2PTVisionTransformer(**{k: v for k, v in cfg.items() if k != 'type'})
    backbone.load_state_dict(state, strict=True)  # the export's own check
    return state, cfg


def _to_mmpretrain(model: nn.Module, state: 'OrderedDict[str, Tensor]', folded: TokenizerFold,
                   positions: Tensor, out_type: str) -> Tuple['OrderedDict[str, Tensor]', dict]:
    """The image export as mmpretrain's ``VisionTransformer(pre_norm=True)``: the tokenizer's
    bias moves into the patch rows of ``pos_embed`` (its patch embedding has no bias)."""
    import inspect

    from mmpretrain.models import VisionTransformer
    trunk = model.trunk
    bias = state.pop('patch_embed.projection.bias')
    rows = [positions.new_zeros(1, 1, trunk.embed_dims)] if trunk.cls_token is not None else []
    state['pos_embed'] = torch.cat(rows + [positions.expand(1, -1, -1) + bias], dim=1).detach()
    accepted = set(inspect.signature(VisionTransformer.__init__).parameters) - {'self'}
    given = {k: copy.deepcopy(v) for k, v in model.trunk_cfg.items()
             if k not in ('type', 'pathway', 'init_cfg')}
    unknown = sorted(set(given) - accepted)
    if unknown:
        raise ValueError(f"target='mmpretrain': the trunk options {unknown} are "
                         "M2PTVisionTransformer's only; export with target='m2pt'")
    cfg = dict(given, type='VisionTransformer', arch=dict(trunk.arch_settings),
               **folded.vit_patch_cfg, pre_norm=True,
               with_cls_token=trunk.cls_token is not None, out_type=out_type)
    backbone = VisionTransformer(**{k: v for k, v in cfg.items() if k != 'type'})
    backbone.load_state_dict(state, strict=True)  # the export's own check
    return state, cfg
