"""Damaged and surprising files, as a user meets them: a checkpoint with a flipped byte inside a
tensor, MAE's own training checkpoint (its ``args`` are an ``argparse.Namespace``), a pickle that
would run code on load. Shared by the tests and ``tools/analysis/bad_inputs.py``."""
import argparse
import os
import struct
import zipfile
from pathlib import Path
from typing import Union

import torch

from .tiny import mae_checkpoint

PathLike = Union[str, Path]


def flip_tensor_byte(path: PathLike, record: str = 'data/0', offset: int = 4) -> str:
    """Invert one byte of the tensor record ``record`` of a torch zip checkpoint, in place (as a
    bad disk or copy would); returns the record's full name inside the zip."""
    with zipfile.ZipFile(path) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(f'/{record}'))
    data = bytearray(Path(path).read_bytes())
    # the data starts after the local header (30 bytes) and its own name and extra fields
    header = info.header_offset
    name_len, extra_len = struct.unpack('<HH', data[header + 26:header + 30])
    data[header + 30 + name_len + extra_len + offset] ^= 0xFF
    Path(path).write_bytes(bytes(data))
    return info.filename


def write_mae_training_checkpoint(path: PathLike, seed: int = 0) -> str:
    """MAE's ``main_pretrain.py`` checkpoint: ``{'model', 'optimizer', 'epoch', 'args'}`` with the
    command line as an ``argparse.Namespace``."""
    ckpt = dict(mae_checkpoint(seed=seed), optimizer={'state': {}, 'param_groups': []}, epoch=799,
                args=argparse.Namespace(model='mae_vit_tiny', mask_ratio=0.75, blr=1.5e-4))
    torch.save(ckpt, path)
    return str(path)


class CodeCarryingPayload:
    """Pickles to a call of ``os.system``: what a malicious checkpoint would carry."""

    def __init__(self, marker: PathLike) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def write_code_carrying_checkpoint(path: PathLike, marker: PathLike, seed: int = 0) -> str:
    """A valid-looking checkpoint that would create ``marker`` if it were unpickled unsafely."""
    torch.save({'state_dict': mae_checkpoint(seed=seed)['model'],
                'extra': CodeCarryingPayload(marker)}, path)
    return str(path)
