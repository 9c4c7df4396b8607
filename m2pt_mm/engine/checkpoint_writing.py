"""Writing checkpoints: atomically (a kill during a save never leaves a file that resume would
trust), and the deploy (merged) twin of a training checkpoint. Reading is
:mod:`m2pt_mm.checkpoints`."""
import contextlib
import glob
import io
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import torch
from mmengine.fileio import LocalBackend, register_backend
from torch import Tensor

from m2pt_mm.pathway import merge_state_dict

DEPLOY_SUFFIX = '_deploy'
#: Temporary files of an atomic write: ``.<final name>.<random>.tmp`` beside the final file.
_TMP_PREFIX, _TMP_SUFFIX = '.', '.tmp'


def is_temp_file(path: str) -> bool:
    """Whether ``path`` is the temporary file of an atomic write (left behind by a kill)."""
    name = osp.basename(path)
    return name.startswith(_TMP_PREFIX) and name.endswith(_TMP_SUFFIX)


def _umask() -> int:
    """The process's umask: read from /proc on Linux, since os.umask can only read it by setting
    it, and a file another thread (a TensorBoard writer) creates meanwhile would get the wrong
    mode."""
    with contextlib.suppress(OSError):
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(data: bytes, filepath: Union[str, Path]) -> None:
    filepath = os.fspath(filepath)
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'{_TMP_PREFIX}{osp.basename(filepath)}.',
                               suffix=_TMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            # mkstemp creates 0600; the file gets what open() would give it (0644 under umask
            # 022), as mmengine's own writes and the files a reader of the work dir expects
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)  # atomic on POSIX: the old file or the new one, never half
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(text: str, filepath: Union[str, Path]) -> None:
    """Replace ``filepath`` by ``text`` atomically (temporary file + rename)."""
    _atomic_write(text.encode('utf-8'), filepath)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, writing through a temporary file and a rename.

    Use it for checkpoints with
    ``default_hooks.checkpoint.backend_args=dict(backend='atomic_local')`` (set in
    ``configs/_base_/mmpretrain_runtime.py``).
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        _atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        _atomic_write(obj.encode(encoding), filepath)


def checkpoint_bytes(obj: Any) -> bytes:
    """What ``torch.save(obj)`` writes, in memory (to hash it before naming the file)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def save_atomic(obj: Any, filepath: Union[str, Path]) -> None:
    """``torch.save`` through a temporary file and an atomic rename."""
    _atomic_write(checkpoint_bytes(obj), filepath)


def deploy_path(checkpoint_path: str) -> str:
    """``work_dir/epoch_3.pth`` → ``work_dir/epoch_3_deploy.pth``."""
    stem, ext = osp.splitext(checkpoint_path)
    return f'{stem}{DEPLOY_SUFFIX}{ext or ".pth"}'


def remove_with_deploy_twin(checkpoint_path: str, backend: Any) -> None:
    """Remove a checkpoint and its deploy twin through a file backend (files, or the directories
    some strategies write), whichever exist."""
    for target in (checkpoint_path, deploy_path(checkpoint_path)):
        if backend.isfile(target):
            backend.remove(target)
        elif backend.isdir(target):
            backend.rmtree(target)


def orphan_deploy_files(folder: str) -> List[str]:
    """The deploy twins in ``folder`` whose training checkpoint is gone (removed by a checkpoint
    hook that does not know about twins, e.g. mmengine's own rotation)."""
    twins = glob.glob(osp.join(folder, f'*{DEPLOY_SUFFIX}.pth'))
    return sorted(p for p in twins if not osp.exists(p[:-len(f'{DEPLOY_SUFFIX}.pth')] + '.pth'))


def write_deploy_checkpoint(state_dict: Mapping[str, Tensor], path: str,
                            meta: Optional[Dict[str, Any]] = None,
                            merged_from: Optional[str] = None) -> 'Dict[str, Tensor]':
    """Merge a training state dict (``W ← W + Σ λ W′``, :func:`m2pt_mm.pathway.merge_state_dict`)
    and save ``{'state_dict': merged, 'meta': meta + {deploy: True, merged_from}}`` atomically.

    The one writer of deploy checkpoints: ``MergePathwayHook`` and ``tools/merge_pathway.py``
    both call it. Returns the merged state dict.
    """
    merged = merge_state_dict(state_dict)
    meta = dict(meta or {}, deploy=True)
    if merged_from is not None:
        meta['merged_from'] = merged_from
    save_atomic({'state_dict': merged, 'meta': meta}, path)
    return merged
