"""The merge core: how pathway parameters are named and the one way ``W + Σₖ λₖ W′ₖ`` is computed.

Dtype policy (the only one in the toolbox): the sum is accumulated in float32 (float64 stays
float64) from the stored parameters — the fp32 master weights when training under AMP — in the
order ``k = 0, 1, ...``, and cast once to the dtype of ``W``. A merged fp32 weight is therefore
exactly ``W + λW′``; bf16 or fp16 parameters are rounded once, not once per term. Layers
(forward, eval cache, deploy, fuse) and checkpoints (:func:`merge_state_dict`) all call
:func:`merge_reparam`, so a deploy checkpoint written from a state dict equals a model merged in
memory, bit for bit.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

_SCALE_KEY = re.compile(r'^(?P<prefix>.+)\.cross_modal_scale(?:_(?P<k>\d+))?$')
_AUX_KEY = re.compile(r'\.(aux_weight|aux_bias|cross_modal_scale)(_\d+)?$')


def aux_param_name(base: str, index: int) -> str:
    """Name of an auxiliary parameter: ``aux_weight`` for aux 0, ``aux_weight_1`` for aux 1, ..."""
    return base if index == 0 else f'{base}_{index}'


def is_pathway_param(name: str) -> bool:
    """Whether a parameter name belongs to an auxiliary branch (``W′``, ``b′`` or ``λ``)."""
    return _AUX_KEY.search(name) is not None


def scale_branch(name: str) -> Optional[Tuple[str, int]]:
    """``(layer prefix, aux index k)`` of a Cross-Modal Scale name, None for other names:
    ``layers.3.attn.qkv.cross_modal_scale_1`` → ``('layers.3.attn.qkv', 1)``."""
    match = _SCALE_KEY.match(name)
    return None if match is None else (match.group('prefix'), int(match.group('k') or 0))


def is_scale_param(name: str) -> bool:
    """Whether a parameter name is a Cross-Modal Scale ``λ``."""
    return scale_branch(name) is not None


def merge_reparam(base: Tensor, aux: Sequence[Tensor], scales: Sequence[Tensor]) -> Tensor:
    """``base + Σₖ scales[k] · aux[k]``, summed in float32 (or wider) and cast once to
    ``base.dtype``.

    Differentiable: the training forward uses it too, so training, evaluation and deployment
    see the same merged weight.
    """
    if len(aux) != len(scales):
        raise ValueError(f'{len(aux)} auxiliary tensors but {len(scales)} scales')
    dtype = torch.promote_types(base.dtype, torch.float32)
    merged = base.to(dtype)
    for aux_k, scale_k in zip(aux, scales):
        merged = merged + scale_k.to(dtype) * aux_k.to(dtype)
    return merged.to(base.dtype)


def merge_state_dict(state_dict: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Merge a state dict that holds pathway parameters: ``weight ← W + Σ λ·aux_weight`` (and
    biases where re-parameterised) by :func:`merge_reparam`; ``aux_*`` and
    ``cross_modal_scale*`` keys are dropped. Pure function: the input is not modified.

    Raises:
        KeyError: a scale without its ``aux_weight``, or a branch without its target ``weight``.
    """
    # prefix -> target ('weight' | 'bias') -> [(k, aux key, scale key)], gathered first so that
    # several aux models are summed in one merge, as in the layer
    branches: Dict[str, Dict[str, List[Tuple[int, str, str]]]] = {}
    for key in state_dict:
        branch = scale_branch(key)
        if branch is None:
            continue
        prefix, k = branch
        for base, target in (('aux_weight', 'weight'), ('aux_bias', 'bias')):
            aux_key = f'{prefix}.{aux_param_name(base, k)}'
            if aux_key not in state_dict:
                if base == 'aux_weight':
                    raise KeyError(f'{key} has no matching {aux_key!r} in the state dict')
                continue
            if f'{prefix}.{target}' not in state_dict:
                raise KeyError(f'{aux_key} has no matching {prefix + "." + target!r} in the '
                               'state dict')
            branches.setdefault(prefix, {}).setdefault(target, []).append((k, aux_key, key))
    merged = OrderedDict((k, v) for k, v in state_dict.items() if not is_pathway_param(k))
    for prefix, targets in branches.items():
        for target, items in targets.items():
            items.sort()
            merged[f'{prefix}.{target}'] = merge_reparam(
                state_dict[f'{prefix}.{target}'], [state_dict[a] for _, a, _ in items],
                [state_dict[s] for _, _, s in items])
    return merged
