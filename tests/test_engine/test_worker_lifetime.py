"""Data-loader workers end with their training process (``m2pt_mm.engine.workers``).

A real run in a subprocess: mmengine's runner trains a one-layer model on a dataset whose samples
past the first few block for ten minutes (a worker inside a slow read), with ``num_workers=2`` and
``persistent_workers=True``. Once both workers are stuck, the main process is SIGKILLed: the
workers must go within seconds (torch's own watchdog would only look after the sample). With the
study's signal handling inherited (SIGINT ignored, SIGTERM turned into ``sys.exit``), SIGINT or
SIGTERM sent to a worker must end it.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='PR_SET_PDEATHSIG and /proc are Linux only')

TRAIN = '''
import os, signal, sys, time
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import m2pt_mm.engine  # noqa: F401  what every config's custom_imports loads


class SlowAfterAFew(Dataset):
    """64 samples; from sample 8 on each blocks for ten minutes (marker file first)."""

    def __len__(self):
        return 64

    def __getitem__(self, index):
        if index >= 8:
            open(os.path.join(sys.argv[1], f'stuck_{{os.getpid()}}'), 'w').close()
            time.sleep(600)
        return dict(inputs=torch.ones(2))


class Regressor(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=(self.linear(inputs) - 1).pow(2).mean())


if {study_signals}:  # as the study's worker processes: Ctrl-C is the study's, SIGTERM exits
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
Runner(
    model=Regressor(), work_dir=os.path.join(sys.argv[1], 'work'),
    train_dataloader=dict(
        dataset=SlowAfterAFew(), batch_size=2, num_workers=2, persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate')),
    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
    train_cfg=dict(by_epoch=True, max_epochs=2),
    custom_hooks={hooks},
    default_hooks=dict(checkpoint=None),
    default_scope='mmengine').train()
'''


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped has ended)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, ProcessLookupError):
        return False


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _stuck_workers(tmp_path: Path, hook: bool, study_signals: bool = False):
    """Start the run; return it and the pids of its two workers once both are stuck."""
    script = tmp_path / 'train.py'
    hooks = "[dict(type='ResumableRandomnessHook')]" if hook else '[]'
    script.write_text(TRAIN.format(study_signals=study_signals, hooks=hooks))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: List[int] = []

    def both_stuck() -> bool:
        workers[:] = sorted(int(p.name.split('_')[1]) for p in tmp_path.glob('stuck_*'))
        return len(workers) == 2 or proc.poll() is not None

    try:
        assert _wait_for(both_stuck, 180) and proc.poll() is None, (
            f'the run ended (rc {proc.poll()}) before both workers were stuck: '
            f'{proc.stderr.read().decode()[-3000:] if proc.poll() is not None else ""}')
        for pid in workers:  # children of the run, not strays of another test
            with open(f'/proc/{pid}/stat') as f:
                assert int(f.read().rsplit(')', 1)[1].split()[1]) == proc.pid
    except BaseException:
        _kill_all(proc, workers)
        raise
    return proc, workers


def _kill_all(proc: subprocess.Popen, workers: List[int]) -> None:
    for pid in [proc.pid, *workers]:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


# one variant of each in the default suite (each is a training process, ≈ 6 s)
@pytest.mark.parametrize('hook', [True, pytest.param(False, marks=pytest.mark.slow)],
                         ids=['randomness-hook', 'no-hook'])
def test_workers_die_with_a_killed_run(tmp_path, hook):
    proc, workers = _stuck_workers(tmp_path, hook)
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        gone = _wait_for(lambda: not any(_alive(w) for w in workers), 5)
        assert gone, (f'data-loader worker(s) {[w for w in workers if _alive(w)]} outlived the '
                      f'SIGKILLed run by 5 s')
    finally:
        _kill_all(proc, workers)


@pytest.mark.parametrize('signum', [signal.SIGINT, pytest.param(signal.SIGTERM,
                                                                   marks=pytest.mark.slow)],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_signal_ends_a_worker_despite_inherited_handlers(tmp_path, signum):
    # one signal per run: a worker that dies makes the run tear its loader down
    proc, workers = _stuck_workers(tmp_path, hook=True, study_signals=True)
    try:
        os.kill(workers[0], signum)
        assert _wait_for(lambda: not _alive(workers[0]), 3), (
            f'worker {workers[0]} survived {signum.name} (the run ignores SIGINT and turns '
            f'SIGTERM into sys.exit; the worker inherits that)')
    finally:
        _kill_all(proc, workers)
