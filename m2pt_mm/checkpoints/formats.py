"""Checkpoint layouts of the supported codebases: detection and pure converters.

Every converter maps a foreign state dict to the names of this toolbox's backbone, which are the
names of mmpretrain's ``VisionTransformer`` (``layers.{i}.attn.qkv``, ``layers.{i}.ffn.layers.0.0``,
...; the README's checkpoint table lists the public files). A converter returns a
:class:`Converted`: the renamed tensors, where each came from, and which keys were dropped on
purpose (decoders, heads), so that no key is lost silently. New layouts slot in with
:func:`register_format`.
"""
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional

import torch
from torch import Tensor

from ..pathway import MMPRETRAIN_LAYERS, is_pathway_param, merge_state_dict


@dataclass
class Converted:
    """A converted state dict: ``state_dict`` in backbone names, ``source_keys[new] = old``."""
    state_dict: 'OrderedDict[str, Tensor]'
    source_keys: Dict[str, str]
    dropped: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


@dataclass
class CheckpointFormat:
    """A layout: ``detect(sd)`` returns a variant name (or None), ``convert(sd)`` renames."""
    name: str
    detect: Callable[[Mapping[str, Tensor]], Optional[str]]
    convert: Callable[[Mapping[str, Tensor]], Converted]


FORMATS: List[CheckpointFormat] = []


def register_format(name: str, detect: Callable, convert: Callable, first: bool = False) -> None:
    """Add a layout; formats are tried in order, the first whose ``detect`` answers wins."""
    fmt = CheckpointFormat(name, detect, convert)
    FORMATS.insert(0, fmt) if first else FORMATS.append(fmt)


class UnsupportedFormatError(ValueError):
    """A recognised layout that this toolbox cannot convert (yet)."""


def _unsupported(name: str, reason: str) -> Callable:
    def convert(state_dict: Mapping[str, Tensor]) -> Converted:
        raise UnsupportedFormatError(f'recognised a {name} checkpoint, but {reason}')
    return convert


def _merge_pathway_keys(state_dict: Mapping[str, Tensor], notes: List[str]) -> Mapping[str, Tensor]:
    """An M2PT-trained checkpoint *is* ``W + λW′``: merge before use."""
    if any(is_pathway_param(k) for k in state_dict):
        notes.append('merged Cross-Modal Re-parameterization weights (W + λW′)')
        return merge_state_dict(state_dict)
    return state_dict


def _rename_keys(sd: Mapping[str, Tensor], layout: str, rename: Callable[[str], Optional[str]],
                 drop: 're.Pattern', strip: str = '') -> Converted:
    """The loop every converter shares: each key is renamed by ``rename(name)`` (None: no rule),
    else dropped on purpose when ``drop`` matches it, else it is unknown and the conversion fails
    naming it. ``strip`` is a container prefix removed before both (``MAE_encoder.``)."""
    out, source, dropped, unknown = OrderedDict(), {}, [], []
    for key, value in sd.items():
        name = key[len(strip):] if strip and key.startswith(strip) else key
        new = rename(name)
        if new is not None:
            out[new], source[new] = value, key
        elif drop.match(name):
            dropped.append(key)
        else:
            unknown.append(key)
    if unknown:
        raise UnsupportedFormatError(f'{layout} checkpoint has keys this converter does not know: '
                                     f'{unknown[:8]}{" ..." if len(unknown) > 8 else ""}')
    return Converted(out, source, dropped)


# ---------------------------------------------------------------- mmpretrain (and our own)
def detect_mmpretrain(sd: Mapping[str, Tensor]) -> Optional[str]:
    if any(re.match(r'^(backbone\.)?layers\.\d+\.ffn\.layers\.0\.0\.weight$', k) for k in sd):
        return 'classifier' if any(k.startswith('backbone.') for k in sd) else 'backbone'
    return None


def convert_mmpretrain(sd: Mapping[str, Tensor]) -> Converted:
    """mmpretrain ViT (backbone, or any model whose backbone it is: keeps ``backbone.*``)."""
    notes: List[str] = []
    dropped: List[str] = []
    if any(k.startswith('backbone.') for k in sd):
        dropped = [k for k in sd if not k.startswith('backbone.')]
        sd = OrderedDict((k[len('backbone.'):], v) for k, v in sd.items()
                         if k.startswith('backbone.'))
    sd = _merge_pathway_keys(sd, notes)
    return Converted(OrderedDict(sd), {k: k for k in sd}, dropped, notes)


# ---------------------------------------------------------------- timm family
_TIMM_BLOCK = {'norm1': 'ln1', 'norm2': 'ln2', 'attn.qkv': 'attn.qkv', 'attn.proj': 'attn.proj',
               'mlp.fc1': 'ffn.layers.0.0', 'mlp.fc2': 'ffn.layers.1'}
_TIMM_TOP = {'cls_token': 'cls_token', 'pos_embed': 'pos_embed',
             'patch_embed.proj.weight': 'patch_embed.projection.weight',
             'patch_embed.proj.bias': 'patch_embed.projection.bias',
             # the final norm: `norm` (pre-pooling, mmpretrain's final `ln1`) or, with average
             # pooling, `fc_norm` (mmpretrain's `ln2` with out_type='avg_featmap')
             'norm.weight': 'ln1.weight', 'norm.bias': 'ln1.bias',
             'fc_norm.weight': 'ln2.weight', 'fc_norm.bias': 'ln2.bias'}
#: Pretraining-only parts (MAE / AudioMAE decoders) and task heads: dropped on purpose.
_TIMM_DROP = re.compile(r'^(mask_token|decoder_.*|decoder\..*|head\..*|head_dist\..*)$')
_TIMM_BLOCK_KEY = re.compile(r'^blocks\.(\d+)\.(.+)\.(weight|bias)$')


def detect_timm(sd: Mapping[str, Tensor]) -> Optional[str]:
    if 'blocks.0.attn.qkv.weight' not in sd:
        return None
    patch = sd.get('patch_embed.proj.weight')
    if patch is not None and patch.dim() == 5 or 'blocks.0.attn.q_bias' in sd:
        return None  # VideoMAE
    if any(k.endswith('rel_pos_h') for k in sd):
        return None  # ViTDet
    kind = 'audiomae' if (patch is not None and patch.shape[1] == 1) or (
        'pos_embed' in sd and sd['pos_embed'].shape[1] == 513) else 'timm'
    if any(is_pathway_param(k) for k in sd):
        return f'm2pt-{kind}'
    if 'mask_token' in sd or any(k.startswith('decoder') for k in sd):
        return (f'{kind}-mae-pretrain-with-decoder' if kind == 'timm'
                else f'{kind}-pretrain-with-decoder')
    if 'fc_norm.weight' in sd and 'norm.weight' not in sd:
        return f'{kind}-finetuned'
    if 'norm.weight' in sd and not any(k.startswith('head.') for k in sd):
        return 'mae-pretrain' if kind == 'timm' else f'{kind}-pretrain'
    return kind


def _rename_timm(name: str) -> Optional[str]:
    m = _TIMM_BLOCK_KEY.match(name)
    if m and m.group(2) in _TIMM_BLOCK:
        return f'layers.{m.group(1)}.{_TIMM_BLOCK[m.group(2)]}.{m.group(3)}'
    return _TIMM_TOP.get(name)


def convert_timm(sd: Mapping[str, Tensor]) -> Converted:
    """timm ``VisionTransformer`` names (timm, MAE, AudioMAE, M2PT zoo) → backbone names."""
    notes: List[str] = []
    sd = _merge_pathway_keys(sd, notes)
    converted = _rename_keys(sd, 'timm-layout', _rename_timm, _TIMM_DROP)
    converted.notes = notes
    return converted


# ---------------------------------------------------------------- Point-MAE
#: Point-MAE block layers → backbone names (its qkv has no bias: only the weight exists).
_POINT_MAE_BLOCK = re.compile(
    r'^blocks\.blocks\.(\d+)\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)'
    r'\.(weight|bias)$')
#: The tokenizer: mini-PointNet group encoder and the MLP position embedding on the centres.
_POINT_MAE_TOKENIZER = re.compile(
    r'^(encoder\.(first|second)_conv\.\d+\.[a-z_]+|pos_embed\.[02]\.(weight|bias))$')
_POINT_MAE_TOP = {'norm.weight': 'ln1.weight', 'norm.bias': 'ln1.bias', 'cls_token': 'cls_token',
                  'cls_pos': 'cls_pos'}
#: The MAE decoder and reconstruction head (pretraining), classification and part-segmentation
#: heads (fine-tuning): dropped on purpose.
_POINT_MAE_DROP = re.compile(r'^(mask_token|decoder_pos_embed\..*|MAE_decoder\..*|increase_dim\..*|'
                             r'cls_head_finetune\..*|label_conv\..*|propagation_\d+\..*|'
                             r'convs\d+\..*|bns\d+\..*)$')


def detect_point_mae(sd: Mapping[str, Tensor]) -> Optional[str]:
    if any(k.startswith('MAE_encoder.') for k in sd):
        return 'pretrain'
    if any(k.startswith('blocks.blocks.') for k in sd):
        return 'finetuned'
    return None


def _rename_point_mae(name: str) -> Optional[str]:
    m = _POINT_MAE_BLOCK.match(name)
    if m:
        return f'layers.{m.group(1)}.{_TIMM_BLOCK[m.group(2)]}.{m.group(3)}'
    if _POINT_MAE_TOKENIZER.match(name):
        return f'patch_embed.{name}'
    return _POINT_MAE_TOP.get(name)


def convert_point_mae(sd: Mapping[str, Tensor]) -> Converted:
    """Point-MAE (``base_model``: pretraining ``MAE_encoder.*`` or fine-tuned ``PointTransformer``)
    → backbone names with a ``PointTokenizer`` at ``patch_embed``."""
    # pretraining nests the encoder, as Point-MAE's own fine-tuning loader knows
    return _rename_keys(sd, 'Point-MAE', _rename_point_mae, _POINT_MAE_DROP, strip='MAE_encoder.')


# ---------------------------------------------------------------- VideoMAE
_VIDEOMAE_BLOCK = re.compile(r'^blocks\.(\d+)\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)'
                             r'\.(weight|bias)$')
_VIDEOMAE_QV_BIAS = re.compile(r'^blocks\.(\d+)\.attn\.(q_bias|v_bias)$')
_VIDEOMAE_TOP = {'patch_embed.proj.weight': 'patch_embed.projection.weight',
                 'patch_embed.proj.bias': 'patch_embed.projection.bias',
                 # only with use_learnable_pos_emb; the default sin-cos table is not saved
                 'pos_embed': 'patch_embed.pos_embed',
                 # `norm` without mean pooling (and in the pretraining encoder), `fc_norm` with it
                 'norm.weight': 'ln1.weight', 'norm.bias': 'ln1.bias',
                 'fc_norm.weight': 'ln2.weight', 'fc_norm.bias': 'ln2.bias'}
#: Pretraining decoder, the bridge to it, its mask token, and the classification head.
_VIDEOMAE_DROP = re.compile(r'^(mask_token|decoder\..*|encoder_to_decoder\..*|head\..*)$')


def detect_videomae(sd: Mapping[str, Tensor]) -> Optional[str]:
    for prefix in ('', 'encoder.'):
        patch = sd.get(f'{prefix}patch_embed.proj.weight')
        if (patch is not None and patch.dim() == 5) or f'{prefix}blocks.0.attn.q_bias' in sd:
            return 'pretrain' if prefix else 'finetuned'
    return None


def _rename_videomae(name: str) -> Optional[str]:
    m = _VIDEOMAE_BLOCK.match(name)
    if m:
        return f'layers.{m.group(1)}.{_TIMM_BLOCK[m.group(2)]}.{m.group(3)}'
    return _VIDEOMAE_TOP.get(name)


def convert_videomae(sd: Mapping[str, Tensor]) -> Converted:
    """VideoMAE (pretraining ``encoder.*`` or fine-tuned) → backbone names with a
    ``VideoTokenizer`` at ``patch_embed``; ``q_bias``/``v_bias`` become one qkv bias
    ``cat(q_bias, 0, v_bias)``, what VideoMAE's attention computes."""
    qv: Dict[int, Dict[str, tuple]] = {}
    rest = OrderedDict()
    for key, value in sd.items():
        # pretraining nests the encoder, as VideoMAE's own fine-tuning loader knows
        name = key[len('encoder.'):] if key.startswith('encoder.') else key
        qv_match = _VIDEOMAE_QV_BIAS.match(name)
        if qv_match:
            qv.setdefault(int(qv_match.group(1)), {})[qv_match.group(2)] = (key, value)
        else:
            rest[key] = value
    converted = _rename_keys(rest, 'VideoMAE', _rename_videomae, _VIDEOMAE_DROP, strip='encoder.')
    out, source = converted.state_dict, converted.source_keys
    for i, biases in sorted(qv.items()):
        if set(biases) != {'q_bias', 'v_bias'}:
            raise UnsupportedFormatError(f'VideoMAE checkpoint: block {i} has {sorted(biases)} but '
                                         'needs both attn.q_bias and attn.v_bias')
        new = f'layers.{i}.attn.qkv.bias'
        if new in out:
            raise UnsupportedFormatError(f'VideoMAE checkpoint: block {i} has both a qkv bias and '
                                         'q_bias/v_bias')
        (q_key, q_bias), (v_key, v_bias) = biases['q_bias'], biases['v_bias']
        out[new] = torch.cat((q_bias, torch.zeros_like(q_bias), v_bias))
        source[new] = f'{q_key} + {v_key}'
    if qv:
        converted.notes.append('fused attn.q_bias / attn.v_bias into one qkv bias with zeros for k')
    return converted


# ---------------------------------------------------------------- OmniVec
#: The parts of an OmniVec model around its shared trunk: dropped on purpose (the trunk alone is
#: the auxiliary model; tokenizers and heads stay modality/task specific, as M2PT's).
_OMNIVEC_DROP = re.compile(r'^(encoders|projections|meta|vectorizer|heads|data_preprocessor)\..*$')


def detect_omnivec(sd: Mapping[str, Tensor]) -> Optional[str]:
    return 'trunk' if any(k.startswith('trunk.layers.') for k in sd) else None


def convert_omnivec(sd: Mapping[str, Tensor]) -> Converted:
    """OmniVec model (``trunk.*`` = ``OmniVecTrunk``, the M2PT backbone's names) → backbone
    names: ``trunk.`` stripped, encoders / projections / meta tokens / vectorizer / heads listed
    as dropped; pathway weights of a trunk trained with one are merged."""
    notes: List[str] = []
    sd = _merge_pathway_keys(sd, notes)
    converted = _rename_keys(sd, 'OmniVec', lambda k: k[len('trunk.'):] if k.startswith('trunk.')
                             else None, _OMNIVEC_DROP)
    converted.notes = notes
    return converted


# ---------------------------------------------------------------- recognised, not converted
def detect_mmseg_vit(sd: Mapping[str, Tensor]) -> Optional[str]:
    return 'vit' if any(re.match(r'^(backbone\.)?layers\.\d+\.attn\.attn\.in_proj_weight$', k)
                        for k in sd) else None


def detect_vitdet(sd: Mapping[str, Tensor]) -> Optional[str]:
    return 'vit' if any(k.endswith('attn.rel_pos_h') for k in sd) else None


register_format('mmpretrain', detect_mmpretrain, convert_mmpretrain)
register_format('point-mae', detect_point_mae, convert_point_mae)
register_format('videomae', detect_videomae, convert_videomae)
register_format('mmseg', detect_mmseg_vit, _unsupported(
    'mmseg ViT',
    'mmseg fuses q/k/v into nn.MultiheadAttention; convert the timm/MAE source instead'))
register_format('vitdet', detect_vitdet, _unsupported(
    'mmdet ViTDet', 'its relative-position attention has no counterpart in a plain ViT'))
register_format('timm', detect_timm, convert_timm)
register_format('omnivec', detect_omnivec, convert_omnivec)


def detect_format(sd: Mapping[str, Tensor]) -> Optional[CheckpointFormat]:
    """The first registered format that recognises ``sd`` (None when none does)."""
    return next((fmt for fmt in FORMATS if fmt.detect(sd) is not None), None)


#: The block linears under their semantic aliases, in backbone (mmpretrain) names.
BLOCK_LINEARS = MMPRETRAIN_LAYERS
