"""Atomic checkpoint writes: a kill during a save never leaves a file that resume would trust."""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Any, Union

import torch
from mmengine.fileio import LocalBackend, register_backend


def _atomic_write(data: bytes, filepath: Union[str, Path]) -> None:
    filepath = os.fspath(filepath)
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(filepath)}.', suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)  # atomic on POSIX: the old file or the new one, never half
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, writing through a temporary file and a rename.

    Use it for checkpoints with ``default_hooks.checkpoint.backend_args=dict(backend='atomic_local')``
    (set in ``configs/_base_/default_runtime.py``).
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        _atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        _atomic_write(obj.encode(encoding), filepath)


def save_atomic(obj: Any, filepath: Union[str, Path]) -> None:
    """``torch.save`` through a temporary file and an atomic rename."""
    import io
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    _atomic_write(buffer.getvalue(), filepath)
