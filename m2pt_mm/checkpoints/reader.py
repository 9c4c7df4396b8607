"""One reader for every checkpoint taken from outside: load safely, detect, convert, split."""
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Union

from torch import Tensor

from .formats import BLOCK_LINEARS, FORMATS, UnsupportedFormatError, detect_format
from .loading import CheckpointError, check_finite, load_checkpoint_file, unwrap_state_dict

_BLOCK_KEY = re.compile(r'^layers\.(\d+)\.')


@dataclass
class ExternalCheckpoint:
    """A foreign checkpoint in this toolbox's backbone names.

    Attributes:
        source: The file (or a description of the in-memory state dict).
        format: Detected layout, e.g. ``'timm/mae-pretrain'`` or ``'mmpretrain/classifier'``.
        state_dict: Backbone tensors in mmpretrain ``VisionTransformer`` names.
        source_keys: ``state_dict`` key → the key it had in the file.
        dropped: Keys dropped on purpose (decoders, heads, non-backbone parts).
        notes: What was done besides renaming (e.g. merged pathway weights).
        depth: Number of transformer blocks.
        embed_dims: Token width (rows of the first block's ``proj`` weight).
    """
    source: str
    format: str
    state_dict: 'OrderedDict[str, Tensor]'
    source_keys: Dict[str, str]
    dropped: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    depth: int = 0
    embed_dims: int = 0

    def block_linears(self, layers: Mapping[str, str] = BLOCK_LINEARS,
                      with_bias: bool = True) -> List['OrderedDict[str, Tensor]']:
        """Per block, ``{alias}.weight`` (and ``{alias}.bias``): the only part a pathway uses.

        Raises:
            KeyError: a block lacks one of the requested layers (names file and key).
        """
        blocks = []
        for i in range(self.depth):
            entry = OrderedDict()
            for alias, path in layers.items():
                key = f'layers.{i}.{path}.weight'
                if key not in self.state_dict:
                    raise KeyError(f'{self.source} ({self.format}): block {i} has no '
                                   f'{alias!r} weight (expected key {key!r}{self._hint(key)})')
                entry[f'{alias}.weight'] = self.state_dict[key]
                bias = self.state_dict.get(f'layers.{i}.{path}.bias')
                if with_bias and bias is not None:
                    entry[f'{alias}.bias'] = bias
            blocks.append(entry)
        return blocks

    def _hint(self, key: str) -> str:
        i = int(_BLOCK_KEY.match(key).group(1))
        example = next((old for new, old in self.source_keys.items()
                        if new.startswith('layers.0.')), None)
        return f'; block 0 has e.g. {example!r} in the file' if example and i != 0 else ''

    def summary(self) -> str:
        text = f'{self.source}: {self.format}, {self.depth} blocks × {self.embed_dims} dims'
        if self.dropped:
            text += (f', dropped {len(self.dropped)} keys ({", ".join(self.dropped[:3])}'
                     f'{", ..." if len(self.dropped) > 3 else ""})')
        return text + ''.join(f'; {n}' for n in self.notes)


def read_checkpoint(source: Union[str, os.PathLike, Mapping[str, Tensor]],
                    name: Optional[str] = None) -> ExternalCheckpoint:
    """Read a checkpoint file (``weights_only=True``) or an in-memory state dict.

    Unwraps ``state_dict`` / ``model`` / ``module`` / ``base_model`` containers and DataParallel /
    torch.compile prefixes, detects the layout among :data:`formats.FORMATS` and converts it.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: unreadable, damaged (CRC), refused by ``weights_only``, not a state
            dict, non-finite values, unknown layout, or blocks missing from the sequence.
    """
    if isinstance(source, Mapping):
        label, obj = name or 'state dict', source
    else:
        label = name or os.fspath(source)
        obj = load_checkpoint_file(source)
    state_dict, container = unwrap_state_dict(obj, label)
    check_finite(state_dict, f'{label}{container}')
    fmt = detect_format(state_dict)
    if fmt is None:
        known = ', '.join(f.name for f in FORMATS)
        raise CheckpointError(f'{label}: unknown checkpoint layout (known: {known}); '
                              f'its first keys are {list(state_dict)[:6]}')
    try:
        converted = fmt.convert(state_dict)
    except UnsupportedFormatError as e:
        raise CheckpointError(f'{label}: {e}') from None
    ckpt = ExternalCheckpoint(label, f'{fmt.name}/{fmt.detect(state_dict)}', converted.state_dict,
                              converted.source_keys, converted.dropped, converted.notes)
    if container:
        ckpt.notes.insert(0, f'state dict found under {container}')
    indices = sorted({int(m.group(1)) for k in ckpt.state_dict for m in [_BLOCK_KEY.match(k)] if m})
    if not indices:
        raise CheckpointError(f'{label} ({ckpt.format}): no transformer blocks found')
    missing = sorted(set(range(indices[-1] + 1)) - set(indices))
    if missing:
        raise CheckpointError(f'{label} ({ckpt.format}): blocks {missing} are missing from the '
                              f'sequence 0..{indices[-1]}')
    ckpt.depth = indices[-1] + 1
    proj = ckpt.state_dict.get('layers.0.attn.proj.weight')
    ckpt.embed_dims = int(proj.shape[0]) if proj is not None else 0
    return ckpt


def check_architecture(ckpt: ExternalCheckpoint, depth: int, embed_dims: int, role: str) -> None:
    """Raise a clear error when ``ckpt`` does not have ``depth`` blocks of width ``embed_dims``."""
    if (ckpt.depth, ckpt.embed_dims) != (depth, embed_dims):
        raise CheckpointError(
            f'{role} checkpoint {ckpt.source} ({ckpt.format}) has {ckpt.depth} blocks of width '
            f'{ckpt.embed_dims}, but the backbone has {depth} blocks of width {embed_dims}')


__all__: Sequence[str] = ['ExternalCheckpoint', 'read_checkpoint', 'check_architecture']
