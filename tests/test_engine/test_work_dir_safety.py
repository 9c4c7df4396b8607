"""A slip must not destroy an experiment: one training run per work dir at a time (an exclusive
lock naming the holder's PID), no new run over an earlier run's checkpoints without ``--resume``
or ``--force``, checkpoint files with the mode the umask gives, and ``--resume`` finding the
checkpoints CheckpointHook wrote under ``out_dir``."""
import errno
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from m2pt_mm.engine import save_atomic, work_dir
from m2pt_mm.engine.checkpoint_writing import atomic_write_text, write_deploy_checkpoint
from m2pt_mm.engine.cli import (
    find_resume_checkpoint,
    load_config,
    merge_train_args,
    train_args,
)
from m2pt_mm.engine.work_dir import (
    LOCK_FILE,
    WorkDirInUseError,
    WorkDirNotEmptyError,
    lock_work_dir,
)
from tests.helpers import ROOT, call_tool, run_tool

ONE_EPOCH = ['--cfg-options', 'train_cfg.max_epochs=1', 'default_hooks.checkpoint.save_best=None']


def _listing(folder: Path) -> list:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob('*'))


def _lock_is_free(work: Path) -> bool:
    try:
        with lock_work_dir(str(work)):
            return True
    except WorkDirInUseError:
        return False


# ------------------------------------------------------------------------- the work-dir lock
def test_a_second_run_during_a_run_is_refused_and_the_lock_goes_with_the_run(
        tiny_cls_configs, tmp_path, monkeypatch):
    work = tmp_path / 'work'
    train = Runner.train
    refusals = []

    def train_and_start_a_second_run(runner):
        # the first run holds the work dir now: a second one is refused
        with pytest.raises(WorkDirInUseError) as err:
            call_tool('train', tiny_cls_configs['m2pt'], '--work-dir', work, *ONE_EPOCH)
        refusals.append(str(err.value))
        assert (work / LOCK_FILE).read_text().split()[0] == str(os.getpid())
        return train(runner)

    monkeypatch.setattr(Runner, 'train', train_and_start_a_second_run)
    runner = call_tool('train', tiny_cls_configs['m2pt'], '--work-dir', work, *ONE_EPOCH)
    assert runner.epoch == 1 and len(refusals) == 1
    assert f'is in use by another training run (process {os.getpid()} on ' in refusals[0]
    assert str(work) in refusals[0] and '--work-dir' in refusals[0]
    # released when training returned: no lock file left, and the next holder gets it
    assert not (work / LOCK_FILE).exists() and _lock_is_free(work)


@HOOKS.register_module(force=True)
class PoisonWeightsHook(Hook):
    """A real divergence: NaN weights before the first step."""

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        with torch.no_grad():
            runner.model.head.layers.head.weight.fill_(math.nan)


def test_the_lock_is_released_when_training_raises(tiny_cls_configs, tmp_path):
    work = tmp_path / 'work'
    with pytest.raises(FloatingPointError, match='loss is nan'):
        call_tool('train', tiny_cls_configs['m2pt'], '--work-dir', work, *ONE_EPOCH,
                  'default_hooks.poison.type=PoisonWeightsHook',
                  'default_hooks.finite.type=FiniteLossHook')
    assert not (work / LOCK_FILE).exists() and _lock_is_free(work)


_HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location('work_dir', sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
with module.lock_work_dir(sys.argv[2]):
    print('locked', flush=True)
    time.sleep(600)
"""


def test_the_lock_of_a_killed_run_is_released(tmp_path):
    # a process that holds the lock as a run does (the module alone: no 8 s of imports)
    work = tmp_path / 'work'
    holder = subprocess.Popen(
        [sys.executable, '-c', _HOLDER, str(ROOT / 'm2pt_mm/engine/work_dir.py'), str(work)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        with pytest.raises(WorkDirInUseError, match=f'process {holder.pid} on '):
            with lock_work_dir(str(work)):
                pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # the kernel dropped the lock with the process; the file (with its PID) stayed
    assert (work / LOCK_FILE).read_text().split()[0] == str(holder.pid)
    with lock_work_dir(str(work)):
        assert (work / LOCK_FILE).read_text().split()[0] == str(os.getpid())


def test_only_global_rank_0_takes_the_lock(tmp_path, monkeypatch):
    work = tmp_path / 'work'
    with lock_work_dir(str(work)):
        monkeypatch.setenv('RANK', '1')
        with lock_work_dir(str(work), 'pytorch'):  # rank 1 shares rank 0's run
            pass
        monkeypatch.setenv('RANK', '0')
        with pytest.raises(WorkDirInUseError):
            with lock_work_dir(str(work), 'pytorch'):
                pass


def test_a_file_system_without_locks_trains_unlocked_with_a_warning(tmp_path, monkeypatch,
                                                                   capsys):
    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, 'No locks available')

    monkeypatch.setattr(work_dir.fcntl, 'flock', no_locks)
    with lock_work_dir(str(tmp_path / 'work')):
        assert not (tmp_path / 'work' / LOCK_FILE).exists()
    assert 'without file locks' in capsys.readouterr().err


def test_command_line_refuses_a_locked_work_dir_in_one_line(tiny_cls_configs, tmp_path):
    work = tmp_path / 'work'
    with lock_work_dir(str(work)):
        result = run_tool('train.py', tiny_cls_configs['m2pt'], '--work-dir', work, check=False)
        assert _listing(work) == [LOCK_FILE]  # the refused run wrote nothing
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f'train.py: error: work dir {work} is in use by another training run (process '
        f'{os.getpid()} on '), result.stderr


# --------------------------------------------------------------- a new run over an earlier one
@pytest.mark.parametrize('earlier', ['epoch_1.pth', 'iter_40.pth', 'last_checkpoint',
                                     'out_dir/work/epoch_3.pth'])
def test_a_new_run_over_earlier_checkpoints_is_refused_before_writing(tiny_cls_configs, tmp_path,
                                                                     earlier):
    work = tmp_path / 'work'
    work.mkdir()
    path = tmp_path / earlier if earlier.startswith('out_dir') else work / earlier
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'the earlier experiment')
    options = ['default_hooks.checkpoint.out_dir=' + str(tmp_path / 'out_dir')] \
        if earlier.startswith('out_dir') else []
    before = _listing(tmp_path)
    with pytest.raises(WorkDirNotEmptyError) as err:
        call_tool('train', tiny_cls_configs['m2pt'], '--work-dir', work, *ONE_EPOCH, *options)
    message = str(err.value)
    assert str(work) in message and Path(earlier).name in message
    assert '--resume' in message and '--force' in message
    assert _listing(tmp_path) == before  # nothing written, nothing overwritten
    assert path.read_bytes() == b'the earlier experiment'


def test_force_starts_a_new_run_over_earlier_checkpoints(tiny_cls_configs, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'epoch_1.pth').write_bytes(b'the earlier experiment')
    runner = call_tool('train', tiny_cls_configs['m2pt'], '--work-dir', work, '--force',
                       *ONE_EPOCH)
    assert runner.epoch == 1
    checkpoint = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=True)
    assert checkpoint['meta']['epoch'] == 1
    # the checkpoints have the mode the umask gives, as the files mmengine writes itself
    log = next(work.rglob('*.log'))
    for name in ('epoch_1.pth', 'epoch_1_deploy.pth', 'last_checkpoint'):
        assert (work / name).stat().st_mode & 0o777 == log.stat().st_mode & 0o777, name


def test_train_args_take_force():
    assert train_args('c.py', force=True).force is True
    assert train_args('c.py').force is False


# ------------------------------------------------------------------------------ file modes
@pytest.mark.parametrize('umask', [0o022, 0o077, 0o002], ids=['022', '077', '002'])
def test_atomic_writes_honour_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        save_atomic({'x': torch.zeros(1)}, tmp_path / 'a.pth')
        atomic_write_text('a.pth', tmp_path / 'last_checkpoint')
        write_deploy_checkpoint({'w': torch.zeros(1)}, str(tmp_path / 'a_deploy.pth'))
        (tmp_path / 'plain').write_text('what open() writes')
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    for name in ('a.pth', 'last_checkpoint', 'a_deploy.pth', 'plain'):
        assert oct((tmp_path / name).stat().st_mode & 0o777) == oct(expected), name


# ------------------------------------------------------------------ --resume with out_dir set
@pytest.fixture
def out_dir_run(tmp_path):
    """A work dir whose checkpoints CheckpointHook wrote to ``out/work/`` (``out_dir`` set):
    ``epoch_1.pth`` intact, ``last_checkpoint`` naming ``epoch_2.pth``, lost in a crash."""
    work, saved = tmp_path / 'work', tmp_path / 'out' / 'work'
    work.mkdir()
    saved.mkdir(parents=True)
    save_atomic({'state_dict': {'w': torch.zeros(1)}, 'meta': {'epoch': 1}},
                saved / 'epoch_1.pth')
    return work, saved


def test_resume_finds_the_newest_intact_checkpoint_in_the_pointers_folder(out_dir_run):
    work, saved = out_dir_run
    (work / 'last_checkpoint').write_text(str(saved / 'epoch_2.pth'))
    messages = []
    assert find_resume_checkpoint(str(work), messages.append) == str(saved / 'epoch_1.pth')
    assert 'epoch_2.pth' in messages[0] and 'newest intact checkpoint' in messages[0]


def test_resume_finds_the_newest_intact_checkpoint_in_out_dir(out_dir_run, tiny_cls_configs):
    work, saved = out_dir_run
    (work / 'last_checkpoint').write_text('elsewhere/epoch_2.pth')  # a folder that is gone
    with pytest.raises(Exception, match='no other intact checkpoint'):
        find_resume_checkpoint(str(work), lambda m: None)  # without out_dir: not found
    assert find_resume_checkpoint(str(work), lambda m: None, out_dir=str(saved.parent)) == str(
        saved / 'epoch_1.pth')
    # what tools/train.py --resume does with the config's out_dir
    args = train_args(tiny_cls_configs['m2pt'], str(work), resume='auto', cfg_options={
        'default_hooks.checkpoint.out_dir': str(saved.parent)})
    cfg = merge_train_args(load_config(args.config, args), args)
    assert cfg.resume is True and cfg.load_from == str(saved / 'epoch_1.pth')
