"""A training run's hold on its work dir: one run at a time (an exclusive lock), and no new run
over an earlier run's checkpoints unless the user says so (``--resume`` or ``--force``).

Only the standard library is imported here: the lock is taken before the model is built.
"""
import contextlib
import errno
import fcntl
import os
import os.path as osp
import re
import socket
import sys
from typing import Iterator, List, Optional

#: flock's answers on a file system without locks (some NFS and Lustre mounts)
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)

#: The lock file in the work dir (the study runner's own lock is ``study.lock``).
LOCK_FILE = '.lock'
#: What a new run would overwrite or resume would read: CheckpointHook's names and pointer.
_CHECKPOINT = re.compile(r'^((epoch|iter)_\d+\.pth|last_checkpoint)$')


class WorkDirInUseError(RuntimeError):
    """Another training run holds the work dir's lock."""


class WorkDirNotEmptyError(RuntimeError):
    """The work dir holds an earlier run's checkpoints and neither ``--resume`` nor ``--force``
    was given."""


def global_rank(launcher: str = 'none') -> int:
    """This process's rank in the whole job, before or after the process group is started: the
    group's rank if it exists, else what the ``launcher`` set in the environment (torchrun's
    ``RANK``, slurm's ``SLURM_PROCID``, Open MPI's ``OMPI_COMM_WORLD_RANK``); 0 without one."""
    if 'torch.distributed' in sys.modules:  # imported by the caller: a group may be running
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank()
    variable = {'pytorch': 'RANK', 'slurm': 'SLURM_PROCID',
                'mpi': 'OMPI_COMM_WORLD_RANK'}.get(launcher)
    return int(os.environ.get(variable, 0)) if variable else 0


@contextlib.contextmanager
def lock_work_dir(work_dir: str, launcher: str = 'none') -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``work_dir/.lock`` (holding this process's PID) for the
    block: a second run in the same work dir is refused at once, naming the first one's PID.

    The lock is released when the block ends, returns or raises, and by the kernel when the
    process dies however it dies (a SIGKILL leaves the file, not the lock). In a distributed job
    only the global rank 0 takes it (the other ranks share rank 0's run). A work dir created here
    and still empty at the end is removed again, so a refused run leaves nothing behind. On a
    file system without locks the run goes on unlocked, with a warning.

    Raises:
        WorkDirInUseError: another run holds the lock (the message names its PID).
    """
    if global_rank(launcher) != 0:
        yield
        return
    created = not osp.isdir(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_FILE)
    try:
        fd = _acquire(path, work_dir)
    except BaseException:
        _remove_if_empty(work_dir, created)
        raise
    try:
        if fd is None:
            yield
            return
        os.ftruncate(fd, 0)
        os.write(fd, f'{os.getpid()} {socket.gethostname()}\n'.encode())
        yield
    finally:
        if fd is not None:
            # unlinked while still held: a run that opened the old file meanwhile sees another
            # inode in _acquire and opens the path again, so two runs never hold two files
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            os.close(fd)
        _remove_if_empty(work_dir, created)


def _acquire(path: str, work_dir: str) -> Optional[int]:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in _NO_LOCKS:
                os.close(fd)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                print(f'warning: {work_dir} is on a file system without file locks ({e}); this '
                      'run does not lock it: start no second run there', file=sys.stderr)
                return None
            if not isinstance(e, BlockingIOError):
                os.close(fd)
                raise
            owner = os.read(fd, 200).decode(errors='replace').split()
            os.close(fd)
            who = f'process {owner[0]} on {owner[1]}' if len(owner) == 2 else 'another process'
            raise WorkDirInUseError(
                f'work dir {work_dir} is in use by another training run ({who}, {path}); wait '
                'for it to end or stop it, or train into another --work-dir') from None
        try:
            if osp.samestat(os.fstat(fd), os.stat(path)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the previous holder removed the file between our open and our lock


def _remove_if_empty(work_dir: str, created: bool) -> None:
    if created:
        with contextlib.suppress(OSError):
            os.rmdir(work_dir)  # fails, as wanted, once the run wrote anything


def checkpoint_dir(work_dir: str, out_dir: Optional[str] = None) -> str:
    """Where CheckpointHook writes a run's checkpoints: ``work_dir``, or with
    ``default_hooks.checkpoint.out_dir`` set, ``out_dir/<last folder of work_dir>``."""
    if out_dir is None or osp.abspath(out_dir) == osp.abspath(work_dir):
        return work_dir
    return osp.join(out_dir, osp.basename(osp.abspath(work_dir)))


def earlier_checkpoints(work_dir: str, out_dir: Optional[str] = None) -> List[str]:
    """The paths of the checkpoints (``epoch_N.pth``, ``iter_N.pth``) and ``last_checkpoint`` an
    earlier run left where a new run of ``work_dir`` would write them."""
    found = []
    for directory in dict.fromkeys([work_dir, checkpoint_dir(work_dir, out_dir)]):
        if osp.isdir(directory):
            found += [osp.join(directory, name) for name in sorted(os.listdir(directory))
                      if _CHECKPOINT.match(name)]
    return found


def refuse_earlier_checkpoints(work_dir: str, out_dir: Optional[str] = None) -> None:
    """Refuse to start a new run (not ``--resume``, not ``--force``) where an earlier run's
    checkpoints would be overwritten, before anything is written.

    Raises:
        WorkDirNotEmptyError: naming the files found and the flags that decide.
    """
    found = earlier_checkpoints(work_dir, out_dir)
    if found:
        names = ', '.join(osp.basename(p) if osp.dirname(p) == work_dir else p
                          for p in found[:3]) + (' …' if len(found) > 3 else '')
        raise WorkDirNotEmptyError(
            f'work dir {work_dir} holds checkpoints of an earlier run ({names}); pass --resume to '
            'continue that run, --force to start a new run there (its checkpoints replace the '
            'earlier ones of the same name), or choose another --work-dir')
