"""Data-loader workers that end with their training process.

A torch data-loader worker notices that its parent died only when it next checks (its
watchdog compares ``os.getppid()`` after each index it waits up to 5 s for, or after each sample
it loads): a worker inside a slow sample, or one whose exit waits on a queue nobody reads any
more, outlives a killed run, holding its memory. And a worker forked by a process that handles
SIGINT or SIGTERM itself (the study's worker processes ignore SIGINT; ``tools/analysis/study.py``
turns SIGTERM into ``sys.exit``) inherits that handling. So every worker, first thing:

- asks Linux to SIGKILL it when its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``);
- takes the default action for the signals our code handles, where it inherited another.

mmengine's ``Runner.build_dataloader`` gives every loader of a run with a seed (every run: the
runner draws one when the config has none) ``partial(mmengine.dataset.worker_init_fn, ...)``
unless the config names its own. :func:`route_mmengine_worker_init` makes that default
:func:`worker_init_fn` (mmengine's seeding after the guard), so train, validation and test
loaders are guarded whether or not a config lists ``ResumableRandomnessHook`` (which re-seeds
through the same function, and wraps a config's own ``worker_init_fn`` with
:func:`guarded_worker_init`).
"""
import ctypes
import functools
import multiprocessing
import os
import signal
import sys
import warnings
from typing import Callable, Optional

from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# the signals m2pt_mm code installs handlers for (tools/analysis/study.py, m2pt_mm/study) and
# the disposition a fresh interpreter gives each
HANDLED_SIGNALS = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}


def die_with_parent() -> None:
    """Make this process die (SIGKILL) when its parent does, and reset inherited signal handling.

    Call it first thing in a forked child (a data-loader worker). On systems without ``prctl``
    only the signal handling is reset.
    """
    for signum, default in HANDLED_SIGNALS.items():
        # an inherited handler of ours (or SIG_IGN): a signal sent to end the worker would only
        # set a flag, raise inside torch's worker loop or be ignored
        if signal.getsignal(signum) is not default:
            signal.signal(signum, signal.SIG_DFL)
    if not sys.platform.startswith('linux'):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        warnings.warn(f'prctl(PR_SET_PDEATHSIG) failed ({os.strerror(ctypes.get_errno())}): this '
                      f'data-loader worker outlives its parent until torch notices', RuntimeWarning)
        return
    # the parent may have died before prctl: the death signal then never comes, and torch's
    # watchdog, which starts after this, would take the new parent for the old one
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os._exit(1)


def worker_init_fn(worker_id: int, num_workers: int, rank: int, seed: int,
                   disable_subprocess_warning: bool = False) -> None:
    """mmengine's ``worker_init_fn`` (seed ``num_workers · rank + worker_id + seed``) after
    :func:`die_with_parent`; same arguments."""
    die_with_parent()
    mmengine_worker_init_fn(worker_id, num_workers, rank, seed,
                            disable_subprocess_warning=disable_subprocess_warning)


def _call_guarded(init_fn: Callable[[int], None], worker_id: int) -> None:
    die_with_parent()
    init_fn(worker_id)


def guarded_worker_init(init_fn: Optional[Callable[[int], None]]) -> Callable[[int], None]:
    """``init_fn`` (a loader's ``worker_init_fn``, or ``None``) run after :func:`die_with_parent`
    (idempotent: a guarded one is returned as it is)."""
    if init_fn is None:
        return die_with_parent_worker_init
    if is_guarded(init_fn):
        return init_fn
    return functools.partial(_call_guarded, init_fn)


def die_with_parent_worker_init(worker_id: int) -> None:
    """A ``worker_init_fn`` that only calls :func:`die_with_parent`."""
    die_with_parent()


def is_guarded(init_fn: Optional[Callable[[int], None]]) -> bool:
    """Whether ``init_fn`` calls :func:`die_with_parent` first."""
    func = init_fn.func if isinstance(init_fn, functools.partial) else init_fn
    return func in (worker_init_fn, _call_guarded, die_with_parent_worker_init)


def route_mmengine_worker_init() -> None:
    """Make :func:`worker_init_fn` the default ``worker_init_fn`` of mmengine's
    ``Runner.build_dataloader`` (idempotent).

    A patch of mmengine's data loading (listed in :mod:`m2pt_mm.patches`): ``runner.py`` and
    ``_flexible_runner.py`` bind mmengine's function to the module name
    ``default_worker_init_fn`` at import and build every loader without a configured
    ``worker_init_fn`` from it; there is no registry entry or argument to choose another.
    """
    import mmengine.runner._flexible_runner as flexible_module
    import mmengine.runner.runner as runner_module
    runner_module.default_worker_init_fn = worker_init_fn
    flexible_module.default_worker_init_fn = worker_init_fn
