"""Kill a run with SIGKILL at a chosen moment, as the OOM killer or a pre-empted job would: the one
driver of the crash tests and ``tools/analysis/check_resume.py``."""
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

PathLike = Union[str, os.PathLike]


class EndedBeforeKill(RuntimeError):
    """The process ended on its own before the moment to kill it came.

    Attributes:
        returncode: Its exit status.
    """

    def __init__(self, what: str, returncode: int) -> None:
        super().__init__(f'the run ended (exit {returncode}) before {what}')
        self.returncode = returncode


def descendants(pid: int) -> List[int]:
    """The ids of the processes below ``pid``, read from /proc (parents before children)."""
    found, queue = [], [pid]
    while queue:
        for task in Path(f'/proc/{queue.pop(0)}/task').glob('*'):
            with contextlib.suppress(OSError):
                children = [int(c) for c in (task / 'children').read_text().split()]
                found += children
                queue += children
    return found


def kill_when(cmd: Sequence[PathLike], until: Callable[[], bool], *, what: str,
              timeout: float, cwd: Optional[PathLike] = None,
              env: Optional[Dict[str, str]] = None, stdout=subprocess.DEVNULL,
              tree: bool = False, poll: float = 0.01) -> int:
    """Start ``cmd``, SIGKILL it as soon as ``until()`` is true, wait for it.

    Args:
        cmd: The command (a list, no shell).
        until: Polled every ``poll`` seconds while the process runs.
        what: The awaited moment, for the errors (e.g. ``'epoch_1.pth was saved'``).
        timeout: Seconds to wait for it.
        cwd: Working directory.
        env: Environment (default: this process's).
        stdout: Where the output goes (stderr follows it).
        tree: Kill every process below it too (a ``torchrun`` job: bash, torchrun, workers).
        poll: Seconds between two calls of ``until``.

    Returns:
        The process id that was killed.

    Raises:
        EndedBeforeKill: the process ended first.
        TimeoutError: ``until()`` stayed false for ``timeout`` seconds (the process is killed).
    """
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env, stdout=stdout,
                            stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    try:
        while not until():
            if proc.poll() is not None:
                raise EndedBeforeKill(what, proc.returncode)
            if time.time() > deadline:
                raise TimeoutError(f'{what}: not within {timeout:g} s')
            time.sleep(poll)
    finally:
        if proc.poll() is None:  # never a reaped (and maybe reused) pid
            # the tree is listed while its root still holds it together
            for pid in [proc.pid] + (descendants(proc.pid) if tree else []):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        proc.wait()
    return proc.pid
