"""Safe reading of checkpoint files: ``weights_only=True``, clear errors, container unwrapping."""
import io
import os
import os.path as osp
import pickle
import re
import zipfile
from collections import OrderedDict
from typing import Any, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor, nn

#: Containers that checkpoints of the supported codebases wrap their state dict in, in the order
#: they are tried (mmengine 'state_dict'; MAE/timm 'model'; DeepSpeed 'module'; Point-MAE
#: 'base_model').
CONTAINER_KEYS = ('state_dict', 'model', 'module', 'base_model')
#: Prefixes stripped when every key carries them (DataParallel, torch.compile).
WRAPPER_PREFIXES = ('module.', '_orig_mod.')


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be used, with the file and the reason in the message."""


def _require_nonempty_file(path: str) -> str:
    path = os.fspath(path)
    if osp.isdir(path):
        raise CheckpointError(f'{path!r} is a directory; expected a checkpoint file (.pth) in it')
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path!r}')
    if osp.getsize(path) == 0:
        raise CheckpointError(f'checkpoint file {path!r} is empty (0 bytes)')
    return path


def _unpickler_detail(message: str) -> str:
    """The line that matters of torch's multi-line, ANSI-coloured ``weights_only`` message."""
    plain = re.sub(r'\x1b\[[0-9;]*m', '', message)
    lines = [line.strip() for line in plain.split('WeightsUnpickler error:')[-1].splitlines()]
    return next((line for line in lines if line), plain.strip().splitlines()[0])


def verify_zip_records(data: Union[bytes, str], path: str) -> None:
    """Check the CRC-32 of every record of a torch zip checkpoint: its bytes ``data`` (read once
    by the caller) or, given the path again, the file read record by record.

    torch writes a CRC per record (``data.pkl``, each tensor's ``data/N``) but does not check it on
    load, so flipped bytes inside a tensor load silently. Files in the legacy (non-zip) format
    carry no checksum and cannot be checked.

    Raises:
        CheckpointError: a record whose bytes do not match its CRC (names the file and record), or
            a zip that cannot be read.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        # ValueError: 'negative seek value' when bytes are missing between records
        raise CheckpointError(f'{path!r} is not a complete checkpoint (bytes missing or moved '
                              f'inside it): {e}') from None
    if bad is not None:
        raise CheckpointError(f'{path!r} is damaged: record {bad!r} does not match its CRC-32 '
                              '(bytes changed after it was written); use an intact copy')


def load_checkpoint_file(path: str, map_location: Any = 'cpu') -> Any:
    """``torch.load(path, weights_only=True)`` with errors that name the file and the cause.

    The file is read once; a zip checkpoint's records are checked against their CRC-32 before
    unpickling (:func:`verify_zip_records`).
    """
    path = _require_nonempty_file(path)
    from .safe_globals import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()  # mmengine training checkpoints, without leaving weights_only
    with open(path, 'rb') as f:
        data = f.read()
    if data[:2] == b'PK':
        verify_zip_records(data, path)
    elif data[:1] != b'\x80':  # torch's legacy format is a pickle (protocol >= 2)
        raise CheckpointError(f'{path!r} is not a torch checkpoint: neither torch\'s zip format '
                              f'nor a pickle (it starts with {data[:8]!r})')
    try:
        return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        # torch words a refused global as "Unsupported global: GLOBAL x.y" or "unsupported
        # GLOBAL x.y whose module x is blocked"
        refused = re.search(r'GLOBAL ([\w.]+)', str(e))
        if refused:
            raise CheckpointError(
                f'refused to load {path!r}: it pickles the global {refused.group(1)}, which is not '
                'a tensor, plain container or allow-listed class and could run code on load. If '
                'you trust the file, re-save just its state dict (a dict of tensors) and pass '
                'that file.') from None
        raise CheckpointError(f'{path!r} is not a torch checkpoint (corrupt, or another kind of '
                              f'file?): {_unpickler_detail(str(e))}') from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError,
            IndexError) as e:
        # KeyError / IndexError: bytes that are not a pickle at all (e.g. an image or text file)
        raise CheckpointError(f'{path!r} is not a torch checkpoint (corrupt, truncated, or another '
                              f'kind of file?): {type(e).__name__}: {e}') from None


def _mmengine_local_loader(filename: str, map_location: Any = None) -> Any:
    return load_checkpoint_file(osp.expanduser(filename), map_location)


def route_mmengine_loads() -> None:
    """Send mmengine's loads of local files (``load_from``, ``--resume``, ``tools/test.py``)
    through :func:`load_checkpoint_file` (idempotent).

    mmengine 0.10.7's local loader is a bare ``torch.load``: no CRC check, and errors (a directory,
    a refused global, a file that is no checkpoint) that do not name the file. Replacing the loader
    registered for local paths (prefix ``''``) is mmengine's own extension point for this.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=_mmengine_local_loader, force=True)


def unwrap_state_dict(obj: Any,
                      source: str = 'checkpoint') -> Tuple['OrderedDict[str, Tensor]', str]:
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
        raise CheckpointError(f'{source}{container}: expected a dict of tensors, but key '
                              f'{bad[0]!r} holds a {type(obj[bad[0]]).__name__}')
    state_dict = OrderedDict(obj)
    for prefix in WRAPPER_PREFIXES:
        if all(k.startswith(prefix) for k in state_dict):
            state_dict = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items())
    return state_dict, container


def check_checkpoint_file(path: str, verify_crc: bool = False) -> None:
    """Cheaply refuse a missing, empty or truncated checkpoint before a run starts.

    torch's zip format keeps its directory at the end of the file, so a truncated file fails to
    open as a zip without reading the tensors. Files in the legacy (non-zip) format are fully
    loaded instead.

    Args:
        path: The checkpoint file.
        verify_crc: Also read every record and check its CRC-32 (flipped bytes inside a tensor):
            one read of the file.
    """
    path = _require_nonempty_file(path)
    if zipfile.is_zipfile(path):
        if verify_crc:
            verify_zip_records(path, path)
            return
        try:
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():  # each record's header where the directory says
                    zf.open(info).close()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise CheckpointError(f'{path!r} is not a complete checkpoint (bytes missing or moved '
                                  f'inside it): {e}') from None
        return
    with open(path, 'rb') as f:
        head = f.read(4)
    if head[:2] == b'PK':  # a zip whose directory is gone: truncated
        raise CheckpointError(f'{path!r} is truncated (torch zip checkpoint without its '
                              'central directory)')
    load_checkpoint_file(path)


def check_finite(state_dict: Mapping[str, Tensor], label: str) -> None:
    """Refuse NaN / Inf weights, naming the first key that holds them: a model loaded from them
    evaluates to chance (or 0.00) and every loss trained from them is NaN."""
    for key, value in state_dict.items():
        if value.is_floating_point() and not bool(value.isfinite().all()):
            count = int((~value.isfinite()).sum())
            raise CheckpointError(f'{label}: key {key!r} holds {count} non-finite value(s) (NaN or '
                                  f'Inf) of {value.numel()}; expected finite weights')


def first_shape_mismatch(expected: Mapping[str, Any],
                         state_dict: Mapping[str, Tensor]) -> Optional[str]:
    """``"key: checkpoint [64, 32], model [32, 32]"`` for the first key present in both whose
    shapes differ (``expected`` maps keys to tensors or shapes), or None."""
    for key, value in state_dict.items():
        if key in expected:
            want = tuple(getattr(expected[key], 'shape', expected[key]))
            if tuple(value.shape) != want:
                return (f'{key!r}: checkpoint {list(value.shape)}, model {list(want)}')
    return None


def check_shapes(expected: Mapping[str, Any], state_dict: Mapping[str, Tensor],
                 label: str) -> None:
    """Refuse a checkpoint whose tensors do not have the model's shapes (a checkpoint of another
    width or depth): torch and mmengine's ``strict=False`` would skip or reject them with a list
    of every key; this names the first one with both shapes."""
    mismatch = first_shape_mismatch(expected, state_dict)
    if mismatch is not None:
        raise CheckpointError(f'{label} does not fit the model: shapes differ at {mismatch} (a '
                              'checkpoint of another model size? check the config it was '
                              'trained with)')


def load_weights(model: nn.Module, state_dict: Mapping[str, Tensor], label: str) -> None:
    """``model.load_state_dict(state_dict, strict=True)`` for weights about to be used: finite,
    of the model's shapes and keys, each refused with one line naming the file and key."""
    check_finite(state_dict, label)
    check_shapes(model.state_dict(), state_dict, label)
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    if missing or unexpected:
        raise CheckpointError(f'{label} does not fit the model: missing {len(missing)} keys '
                              f'{missing[:4]}, unexpected {len(unexpected)} keys {unexpected[:4]}')
