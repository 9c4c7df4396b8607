"""Export one modality of an OmniVec model to a plain ``M2PTVisionTransformer`` checkpoint.

For a fixed input shape the meta vector is a constant, so the FiLM projection is one linear map
``y = A t + c`` with ``A = diag(1 + γ) W`` and ``c = (1 + γ) ⊙ b + β``. With a depth-0 encoder
(tokenizer + positions ``P``) OmniVec computes::

    LN([cls, A (tokenizer(x) + P) + c])  → trunk blocks → ln1

and a ViT with ``pre_norm=True`` computes ``LN([cls, tokenizer'(x)] + pos) → blocks → ln1``. So
``A`` is folded into the tokenizer's last linear layer (patch / tubelet projection, text token
table, the point adjacency projection), ``c`` into its bias, ``A P`` becomes the position table
(the class token's position is zero), the projection's LayerNorm becomes ``pre_norm`` and the
trunk keys are the backbone's. The result loads with ``strict=True`` and gives the same features.

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
from typing import Callable, Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from m2pt_mm.pathway import is_pathway_param, merge_state_dict

from ..tokenizers import (
    AudioTokenizer,
    ImageTokenizer,
    PointTokenizer,
    TextTokenizer,
    VideoTokenizer,
)
from .encoder import OmniVecEncoder

#: A fold: (encoder, A [D, E], c [D], batch shape) → (tokenizer state dict without prefix,
#: tokenizer config, position table [1, N, D] of the backbone or None when the tokenizer keeps
#: its own positions).
Fold = Callable[[OmniVecEncoder, Tensor, Tensor, Tuple[int, ...]],
                Tuple[Dict[str, Tensor], dict, Optional[Tensor]]]


def default_input_shape(tokenizer: nn.Module) -> Optional[Tuple[int, ...]]:
    """The per-sample input shape a tokenizer was configured for (None for point clouds, whose
    number of points the tokenizer does not fix)."""
    if isinstance(tokenizer, (ImageTokenizer, AudioTokenizer)) and tokenizer.init_input_size:
        channels = 1 if isinstance(tokenizer, AudioTokenizer) else tokenizer.in_channels
        return (channels, *tokenizer.init_input_size)
    if isinstance(tokenizer, VideoTokenizer):
        return (tokenizer.in_channels,
                *(n * k for n, k in zip(tokenizer.init_out_size, tokenizer.kernel)))
    if isinstance(tokenizer, TextTokenizer):
        return (tokenizer.max_length, )
    return None


def _fold_weight(A: Tensor, weight: Tensor) -> Tensor:
    """``A [D, E]`` applied to the output axis of a linear/conv weight ``[E, ...]``."""
    return torch.einsum('de,e...->d...', A, weight)


def _fold_conv(projection: nn.Module, A: Tensor, c: Tensor) -> Dict[str, Tensor]:
    bias = c if projection.bias is None else A @ projection.bias + c
    return {'projection.weight': _fold_weight(A, projection.weight), 'projection.bias': bias}


def _grid_positions(encoder: OmniVecEncoder, shape: Tuple[int, ...]) -> Tuple[Tensor, tuple]:
    with torch.no_grad():
        _, grid = encoder.tokenizer(torch.zeros(shape))
    return encoder.position_embedding(grid), tuple(grid)


def _fold_image(encoder: OmniVecEncoder, A: Tensor, c: Tensor, shape: Tuple[int, ...]):
    tok = encoder.tokenizer
    if tok.norm is not None:
        raise ValueError('a tokenizer with a norm after its projection (norm_cfg) does not fold')
    positions, _ = _grid_positions(encoder, shape)
    patch = tok.projection.kernel_size[0]
    if isinstance(tok, AudioTokenizer):
        cfg = dict(type='AudioTokenizer', num_frames=shape[2], num_mel_bins=shape[3],
                   patch_size=patch, bias=True)
    else:
        cfg = dict(type='ImageTokenizer', in_channels=shape[1], img_size=tuple(shape[2:]),
                   patch_size=patch, bias=True)
    return _fold_conv(tok.projection, A, c), cfg, positions @ A.T


def _fold_video(encoder: OmniVecEncoder, A: Tensor, c: Tensor, shape: Tuple[int, ...]):
    tok = encoder.tokenizer
    positions, _ = _grid_positions(encoder, shape)
    state = _fold_conv(tok.projection, A, c)
    # the folded positions are no sin-cos table any more: the exported tokenizer learns its own
    state['pos_embed'] = positions @ A.T
    cfg = dict(type='VideoTokenizer', in_channels=shape[1], num_frames=shape[2],
               img_size=tuple(shape[3:]), patch_size=tok.kernel[1], tubelet_size=tok.kernel[0],
               pos_embed='learned', bias=True)
    return state, cfg, None


def _fold_text(encoder: OmniVecEncoder, A: Tensor, c: Tensor, shape: Tuple[int, ...]):
    tok = encoder.tokenizer
    state = {'token_embed.weight': tok.token_embed.weight @ A.T + c,
             'pos_embed': tok.pos_embed @ A.T}
    cfg = dict(type='TextTokenizer', vocab_size=tok.vocab_size, max_length=tok.max_length)
    return state, cfg, None


def _fold_point(encoder: OmniVecEncoder, A: Tensor, c: Tensor, shape: Tuple[int, ...]):
    tok = encoder.tokenizer
    if tok.group_embed != 'adjacency':
        raise ValueError("a PointTokenizer with group_embed='pointnet' does not fold: its "
                         'mini-PointNet max-pools after its last layer, and a linear map does '
                         "not commute with the max (group_embed='adjacency' exports)")
    state = {k: v for k, v in tok.state_dict().items()}
    linear, position = tok.encoder.projection, tok.pos_embed[2]
    state.update({'encoder.projection.weight': A @ linear.weight,
                  'encoder.projection.bias': A @ linear.bias + c,
                  'pos_embed.2.weight': A @ position.weight,
                  'pos_embed.2.bias': A @ position.bias})
    cfg = dict(type='PointTokenizer', num_groups=tok.num_groups, group_size=tok.group_size,
               group_embed='adjacency', pos_every_block=False)
    return state, cfg, None


#: What ``export_single_modality`` writes for: ``M2PTVisionTransformer`` or mmpretrain's
#: ``VisionTransformer``.
EXPORT_TARGETS = ('m2pt', 'mmpretrain')

FOLDS: Dict[type, Fold] = {
    ImageTokenizer: _fold_image,
    AudioTokenizer: _fold_image,
    VideoTokenizer: _fold_video,
    TextTokenizer: _fold_text,
    PointTokenizer: _fold_point,
}


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
    fold = FOLDS.get(type(encoder.tokenizer))
    if fold is None:
        raise ValueError(f'{type(encoder.tokenizer).__name__} has no export fold; exportable: '
                         f'{[cls.__name__ for cls in FOLDS]}')
    if target == 'mmpretrain' and fold is not _fold_image:
        raise ValueError(f"target='mmpretrain' takes image-like inputs (ImageTokenizer, "
                         f"AudioTokenizer): mmpretrain's VisionTransformer embeds patches with "
                         f"a conv; export the {modality} encoder's "
                         f"{type(encoder.tokenizer).__name__} with target='m2pt'")
    if input_shape is None:
        input_shape = default_input_shape(encoder.tokenizer)
        if input_shape is None:
            raise ValueError(f'give the {modality} input shape to export for (the folded '
                             'projection depends on it through the meta tokens)')
    shape = (1, *(int(n) for n in input_shape))
    with torch.no_grad():
        scale, shift = projection.modulation(model.meta_vector(modality, shape))
        A = scale[:, None] * projection.linear.weight  # [D, E]
        c = scale * projection.linear.bias + shift
        tokenizer_state, tokenizer_cfg, positions = fold(encoder, A, c, shape)

    trunk_state = trunk.state_dict()
    if any(is_pathway_param(k) for k in trunk_state):
        trunk_state = merge_state_dict(trunk_state)  # W + λW′: a plain ViT has W only
    state = OrderedDict((k, v.detach().clone()) for k, v in trunk_state.items())
    state.update((f'patch_embed.{k}', v.detach().clone()) for k, v in tokenizer_state.items())
    state['pre_norm.weight'] = projection.norm.weight.detach().clone()
    state['pre_norm.bias'] = projection.norm.bias.detach().clone()
    dims = trunk.embed_dims
    if target == 'mmpretrain':
        return _to_mmpretrain(model, state, tokenizer_cfg, positions, out_type)
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
    if tokenizer_cfg['type'] == 'ImageTokenizer':
        cfg.update(img_size=tokenizer_cfg['img_size'], patch_size=tokenizer_cfg['patch_size'],
                   in_channels=tokenizer_cfg['in_channels'])
    backbone = M2PTVisionTransformer(**{k: v for k, v in cfg.items() if k != 'type'})
    backbone.load_state_dict(state, strict=True)  # the export's own check
    return state, cfg


def _to_mmpretrain(model: nn.Module, state: 'OrderedDict[str, Tensor]', tokenizer_cfg: dict,
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
               img_size=tuple(tokenizer_cfg.get('img_size') or (tokenizer_cfg['num_frames'],
                                                              tokenizer_cfg['num_mel_bins'])),
               patch_size=tokenizer_cfg['patch_size'],
               in_channels=tokenizer_cfg.get('in_channels', 1), pre_norm=True,
               with_cls_token=trunk.cls_token is not None, out_type=out_type)
    backbone = VisionTransformer(**{k: v for k, v in cfg.items() if k != 'type'})
    backbone.load_state_dict(state, strict=True)  # the export's own check
    return state, cfg
