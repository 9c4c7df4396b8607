"""Attach, merge and report Multimodal Pathways over any ``nn.Module`` tree (torch only).

A pathway connects block ``i`` of the target model with block ``j`` of an auxiliary model of the
same block structure (``j = i``, or ``j = N-1-i`` for the ``reversed`` order of the paper's
Table 6) and turns each chosen linear of the target block into a
:class:`CrossModalReparamLinear` whose ``W′`` is the auxiliary block's counterpart weight.

The auxiliary model may be given as
  * an ``nn.Module`` with the target's layout (e.g. two timm ViTs),
  * a state dict with the target's key names (``blocks.3.attn.qkv.weight``), or
  * a list of per-block dicts, ``aux[j]['<layer>.weight']`` (and ``.bias``), where ``<layer>`` is
    the alias (when ``layers`` is a mapping) or the path; this is what a checkpoint reader that
    renames foreign layouts produces.

Call :func:`attach_pathway` once per auxiliary model: a second call adds a second branch
(``W + λ₀W′₀ + λ₁W′₁``).
"""
import copy
import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from .merge import is_scale_param, scale_branch
from .reparam_linear import CrossModalReparamLinear

AuxSource = Union[nn.Module, Mapping[str, Tensor], Sequence[Mapping[str, Tensor]]]
LayerSpec = Union[Sequence[str], Mapping[str, str]]

#: Linear layers of a ViT block in timm / MAE layout (the official M2PT ``layer_names``).
TIMM_LAYERS = {'qkv': 'attn.qkv', 'proj': 'attn.proj', 'fc1': 'mlp.fc1', 'fc2': 'mlp.fc2'}
#: The same layers in mmpretrain's ``VisionTransformer`` layout.
MMPRETRAIN_LAYERS = {'qkv': 'attn.qkv', 'proj': 'attn.proj', 'fc1': 'ffn.layers.0.0',
                     'fc2': 'ffn.layers.1'}
ORDERS = ('normal', 'reversed')

def aux_block_index(i: int, depth: int, order: str) -> int:
    """The auxiliary block connected to target block ``i`` (0-based)."""
    if order == 'normal':
        return i
    if order == 'reversed':
        return depth - 1 - i
    raise ValueError(f"order must be one of {ORDERS}, got {order!r}")


def _layer_items(layers: LayerSpec) -> List[Tuple[str, str]]:
    """``[(key, path)]``: the key names a layer in per-block aux dicts (alias, else the path)."""
    if isinstance(layers, str):
        layers = [layers]
    if isinstance(layers, Mapping):
        return list(layers.items())
    return [(path, path) for path in layers]


def _get_submodule(root: nn.Module, path: str, what: str) -> nn.Module:
    try:
        return root.get_submodule(path)
    except AttributeError:
        children = [name for name, _ in root.named_children()]
        raise AttributeError(f'{what}: no submodule {path!r} in {type(root).__name__} '
                             f'(its children: {children})') from None


def _aux_blocks(aux: AuxSource, blocks: str, items: List[Tuple[str, str]],
                aux_name: str) -> List[Dict[str, Tuple[str, Tensor, Optional[Tensor]]]]:
    """Per aux block: ``key -> (description, weight, bias)`` whatever form ``aux`` came in."""
    if isinstance(aux, nn.Module):
        block_list = _get_submodule(aux, blocks, aux_name)
        out = []
        for j, block in enumerate(block_list):
            entry = {}
            for key, path in items:
                layer = _get_submodule(block, path, f'{aux_name} block {j}')
                entry[key] = (f'{aux_name} {blocks}.{j}.{path}.weight', layer.weight, layer.bias)
            out.append(entry)
        return out
    if isinstance(aux, Mapping):
        pattern = re.compile(rf'^{re.escape(blocks)}\.(\d+)\.')
        indices = {int(m.group(1)) for k in aux for m in [pattern.match(k)] if m}
        if not indices:
            raise KeyError(f'{aux_name}: no key starts with {blocks!r}.<i>. '
                           f'(first keys: {list(aux)[:5]})')
        out = []
        for j in range(max(indices) + 1):
            entry = {}
            for key, path in items:
                name = f'{blocks}.{j}.{path}'
                if f'{name}.weight' not in aux:
                    raise KeyError(f'{aux_name}: missing key {name + ".weight"!r}')
                entry[key] = (f'{aux_name} {name}.weight', aux[f'{name}.weight'],
                              aux.get(f'{name}.bias'))
            out.append(entry)
        return out
    out = []
    for j, block in enumerate(aux):
        entry = {}
        for key, _ in items:
            if f'{key}.weight' not in block:
                raise KeyError(f'{aux_name}: block {j} has no {key + ".weight"!r} '
                               f'(it has {sorted(block)})')
            entry[key] = (f'{aux_name} block {j} {key}.weight', block[f'{key}.weight'],
                          block.get(f'{key}.bias'))
        out.append(entry)
    return out


def _connections(model: nn.Module, aux: Optional[AuxSource], blocks: str, layers: LayerSpec,
                 order: str, aux_name: str):
    """Yield ``(target name, block, path, target linear, aux description, W′, b′)`` for every
    connected layer, after checking order, depth, layer types and shapes."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    items = _layer_items(layers)
    target_blocks = _get_submodule(model, blocks, 'target model')
    depth = len(target_blocks)
    aux_blocks = None if aux is None else _aux_blocks(aux, blocks, items, aux_name)
    if aux_blocks is not None and len(aux_blocks) != depth:
        raise ValueError(f'depth mismatch: target {blocks!r} has {depth} blocks, '
                         f'{aux_name} has {len(aux_blocks)}')
    for i, block in enumerate(target_blocks):
        j = aux_block_index(i, depth, order)
        for key, path in items:
            layer = _get_submodule(block, path, f'target block {i}')
            target_name = f'{blocks}.{i}.{path}'
            if not isinstance(layer, nn.Linear):
                raise TypeError(f'target {target_name!r} is a {type(layer).__name__}, '
                                'expected an nn.Linear')
            if aux_blocks is None:
                yield target_name, block, path, layer, None, None, None
                continue
            desc, aux_weight, aux_bias = aux_blocks[j][key]
            if aux_weight.shape != layer.weight.shape:
                raise ValueError(f'shape mismatch: {desc} has shape {tuple(aux_weight.shape)}, but '
                                 f'target {target_name}.weight has {tuple(layer.weight.shape)}')
            yield target_name, block, path, layer, desc, aux_weight, aux_bias


def attach_pathway(model: nn.Module,
                   aux: Optional[AuxSource],
                   blocks: str = 'blocks',
                   layers: LayerSpec = tuple(TIMM_LAYERS.values()),
                   order: str = 'normal',
                   scale_init: float = 0.,
                   scale_trainable: bool = True,
                   aux_trainable: bool = True,
                   weight_trainable: bool = True,
                   reparam_bias: bool = False,
                   recompute: bool = False,
                   aux_name: str = 'aux') -> List[str]:
    """Connect every block of ``model`` with its auxiliary counterpart, in place.

    Args:
        model: The target model.
        aux: The auxiliary model (see the module docstring for the accepted forms), or None to
            start W′ at zero and fill it later with :func:`load_aux_weights` or a state dict.
        blocks: Dotted path of the block list in ``model`` (and in ``aux``, for a module or a
            state dict), e.g. ``'blocks'`` (timm) or ``'layers'`` (mmpretrain).
        layers: Linear layers inside a block: paths (``'attn.qkv'``), or ``alias -> path``.
        order: ``'normal'`` (block i ↔ i) or ``'reversed'`` (block i ↔ N-1-i).
        scale_init: Initial Cross-Modal Scale λ.
        scale_trainable: Whether λ trains.
        aux_trainable: Whether W′ trains.
        weight_trainable: Whether the target W trains.
        reparam_bias: Also re-parameterise biases (``b + λb′``); the official code does not.
        recompute: Rebuild the merged weight in backward instead of keeping it (less memory).
        aux_name: How errors name the auxiliary model (e.g. its checkpoint path).

    Returns:
        The names of the re-parameterised layers in ``model``.
    """
    names = []
    for target_name, block, path, layer, desc, aux_weight, aux_bias in _connections(
            model, aux, blocks, layers, order, aux_name):
        if reparam_bias and aux is not None and aux_bias is None:
            raise KeyError(f'reparam_bias=True but {desc[:-len("weight")]}bias is missing')
        if not isinstance(layer, CrossModalReparamLinear):
            layer = CrossModalReparamLinear.from_linear(layer, weight_trainable)
            parent_path, _, attr = path.rpartition('.')
            setattr(block.get_submodule(parent_path) if parent_path else block, attr, layer)
        layer.set_weight_trainable(weight_trainable)
        layer.recompute = layer.recompute or recompute
        layer.add_aux(aux_weight, aux_bias if reparam_bias else None, scale_init=scale_init,
                      scale_trainable=scale_trainable, aux_trainable=aux_trainable,
                      reparam_bias=reparam_bias)
        names.append(target_name)
    return names


def load_aux_weights(model: nn.Module,
                     aux: AuxSource,
                     index: int = 0,
                     blocks: str = 'blocks',
                     layers: LayerSpec = tuple(TIMM_LAYERS.values()),
                     order: str = 'normal',
                     aux_name: str = 'aux') -> List[str]:
    """Copy an auxiliary model's weights into the existing branch ``index`` of each pathway
    layer (λ untouched), with the same checks as :func:`attach_pathway`."""
    names = []
    for target_name, _, _, layer, desc, aux_weight, aux_bias in _connections(
            model, aux, blocks, layers, order, aux_name):
        if not isinstance(layer, CrossModalReparamLinear) or index >= layer.num_aux:
            raise ValueError(f'{target_name} has no auxiliary branch {index} to load {desc} into')
        with torch.no_grad():
            layer.aux_weight_at(index).copy_(aux_weight)
            if layer.has_aux_bias[index]:
                if aux_bias is None:
                    raise KeyError(f'reparam_bias=True but {desc[:-len("weight")]}bias is missing')
                layer.aux_bias_at(index).copy_(aux_bias)
        names.append(target_name)
    return names


def merge_pathways(model: nn.Module, inplace: bool = False) -> nn.Module:
    """The model with every :class:`CrossModalReparamLinear` replaced by the plain ``nn.Linear``
    of its :meth:`~CrossModalReparamLinear.fuse` (``W + Σ λ W′``): exactly the keys of the plain
    model. Like timm's ``reparameterize_model``: a deep copy unless ``inplace``.

    A model (or backbone) that keeps its own deploy state merges with its ``switch_to_deploy()``
    instead, which loops over the layers' ``switch_to_deploy()``.
    """
    if not inplace:
        model = copy.deepcopy(model)
    if isinstance(model, CrossModalReparamLinear):
        return model.fuse()
    for name, layer in [(n, m) for n, m in model.named_modules()
                        if isinstance(m, CrossModalReparamLinear)]:
        parent_path, _, attr = name.rpartition('.')
        setattr(model.get_submodule(parent_path) if parent_path else model, attr, layer.fuse())
    return model


@dataclass
class ScaleRecord:
    """One Cross-Modal Scale: ``value`` of aux ``aux`` in layer ``layer`` of block ``block``."""
    name: str
    block: Optional[int]
    layer: str
    aux: int
    value: float


_LAYER_ALIAS = {path: alias for table in (TIMM_LAYERS, MMPRETRAIN_LAYERS)
                for alias, path in table.items()}


def collect_scales(source: Union[nn.Module, Mapping[str, Tensor]]) -> List[ScaleRecord]:
    """Every λ in a model or a state dict. Blocks are found as the first integer in the name
    (``layers.3.ffn.layers.0.0`` → block 3, layer ``fc1``)."""
    items = source.named_parameters() if isinstance(source, nn.Module) else source.items()
    records = []
    for key, value in items:
        branch = scale_branch(key)
        if branch is None:
            continue
        prefix, k = branch
        parts = prefix.split('.')
        idx = next((n for n, p in enumerate(parts) if p.isdigit()), None)
        block = None if idx is None else int(parts[idx])
        layer = '.'.join(parts[idx + 1:]) if idx is not None else prefix
        records.append(ScaleRecord(key, block, _LAYER_ALIAS.get(layer, layer), k,
                                   float(value.detach().float().reshape(-1)[0])))
    return records


def format_scale_table(records: Sequence[ScaleRecord], precision: int = 4) -> str:
    """λ as a text table: one row per block, one column per layer (× aux when several)."""
    if not records:
        return '(no Cross-Modal Scales found)'
    num_aux = max(r.aux for r in records) + 1
    layers = list(dict.fromkeys(r.layer for r in records))
    columns = [(layer, k) for layer in layers for k in range(num_aux)]
    blocks = sorted({r.block for r in records}, key=lambda b: -1 if b is None else b)
    values = {(r.block, r.layer, r.aux): r.value for r in records}
    header = ['block'] + [layer if num_aux == 1 else f'{layer}[{k}]' for layer, k in columns]
    rows = [[str(b)] + [f'{values[(b, layer, k)]:+.{precision}f}' if (b, layer, k) in values
                        else '-' for layer, k in columns] for b in blocks]
    widths = [max(len(row[c]) for row in [header] + rows) for c in range(len(header))]
    fmt = lambda row: '  '.join(cell.rjust(w) for cell, w in zip(row, widths))  # noqa: E731
    return '\n'.join([fmt(header), fmt(['-' * w for w in widths])] + [fmt(r) for r in rows])


def freeze_all_but_scales(module: nn.Module) -> None:
    """The paper's *fix* setting inside ``module``: only Cross-Modal Scales stay trainable."""
    for name, param in module.named_parameters():
        param.requires_grad_(is_scale_param(name))
