"""Safe reading of checkpoint files: ``weights_only=True``, clear errors, container unwrapping."""
import os
import pickle
import zipfile
from collections import OrderedDict
from typing import Any, Mapping, Tuple

import torch
from torch import Tensor

#: Containers that checkpoints of the supported codebases wrap their state dict in, in the order
#: they are tried (mmengine 'state_dict'; MAE/timm 'model'; DeepSpeed 'module'; Point-MAE 'base_model').
CONTAINER_KEYS = ('state_dict', 'model', 'module', 'base_model')
#: Prefixes stripped when every key carries them (DataParallel, torch.compile).
WRAPPER_PREFIXES = ('module.', '_orig_mod.')


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be used, with the file and the reason in the message."""


def _require_nonempty_file(path: str) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path!r}')
    if os.path.getsize(path) == 0:
        raise CheckpointError(f'checkpoint file {path!r} is empty (0 bytes)')
    return path


def load_checkpoint_file(path: str, map_location: str = 'cpu') -> Any:
    """``torch.load(path, weights_only=True)`` with errors that name the file and the cause."""
    path = _require_nonempty_file(path)
    from .safe_globals import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()  # mmengine training checkpoints, without leaving weights_only
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if 'weights_only' in str(e) or 'Weights only load failed' in str(e):
            first_line = str(e).strip().splitlines()[0]
            raise CheckpointError(
                f'refused to load {path!r}: it pickles Python objects other than tensors and plain '
                f'containers, which could run code on load ({first_line}). If you trust the file, '
                're-save just its state dict (a dict of tensors) and pass that file.') from None
        raise CheckpointError(f'{path!r} is not a readable torch checkpoint: {e}') from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as e:
        raise CheckpointError(f'{path!r} is not a readable torch checkpoint (corrupt or truncated?): '
                              f'{type(e).__name__}: {e}') from None


def unwrap_state_dict(obj: Any, source: str = 'checkpoint') -> Tuple['OrderedDict[str, Tensor]', str]:
    """Find the state dict inside a loaded checkpoint.

    Returns:
        The state dict (wrapper prefixes stripped) and the container path it was found under,
        e.g. ``"['model']"`` or ``''`` for a bare state dict.
    """
    container = ''
    while isinstance(obj, Mapping):
        inner = next((k for k in CONTAINER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            break
        obj, container = obj[inner], f'{container}[{inner!r}]'
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f'{source}: expected a state dict (a non-empty dict of tensors), '
                              f'found {type(obj).__name__}')
    bad = [k for k, v in obj.items() if not isinstance(v, Tensor)]
    if bad:
        raise CheckpointError(f'{source}{container}: expected a dict of tensors, but key {bad[0]!r} '
                              f'holds a {type(obj[bad[0]]).__name__}')
    state_dict = OrderedDict(obj)
    for prefix in WRAPPER_PREFIXES:
        if all(k.startswith(prefix) for k in state_dict):
            state_dict = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items())
    return state_dict, container


def check_checkpoint_file(path: str) -> None:
    """Cheaply refuse a missing, empty or truncated checkpoint before a run starts.

    torch's zip format keeps its directory at the end of the file, so a truncated file fails to
    open as a zip without reading the tensors. Files in the legacy (non-zip) format are fully
    loaded instead.
    """
    path = _require_nonempty_file(path)
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                zf.infolist()
        except (zipfile.BadZipFile, OSError) as e:
            raise CheckpointError(f'{path!r} is not a complete checkpoint: {e}') from None
        return
    with open(path, 'rb') as f:
        head = f.read(4)
    if head[:2] == b'PK':  # a zip whose directory is gone: truncated
        raise CheckpointError(f'{path!r} is truncated (torch zip checkpoint without its '
                              'central directory)')
    load_checkpoint_file(path)
