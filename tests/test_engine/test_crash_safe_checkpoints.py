"""A save killed at any step leaves a complete checkpoint that ``--resume`` finds
(``CrashSafeCheckpointHook``: new checkpoint, deploy twin, ``last_checkpoint``, then rotation);
a ``last_checkpoint`` naming a missing or damaged file falls back to the newest intact one."""
import collections
import shutil

import pytest
import torch

from m2pt_mm.checkpoints import CheckpointError, check_checkpoint_file
from m2pt_mm.engine import checkpoint_writing
from m2pt_mm.engine.cli import find_resume_checkpoint
from m2pt_mm.engine.hooks import (
    CrashSafeCheckpointHook,
    crash_safe_checkpoint_hook,
    merge_pathway_hook,
)
from tests.helpers import call_tool, state_dict_of


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs (not even ``except Exception`` clauses)."""


ONE_EPOCH = ['--cfg-options', 'train_cfg.max_epochs=1', 'default_hooks.checkpoint.max_keep_ckpts=1',
             'default_hooks.checkpoint.save_best=None']


@pytest.fixture(scope='module')
def one_epoch(tmp_path_factory, tiny_cls_configs):
    """A runner after one epoch (``epoch_1.pth`` + deploy twin, ``max_keep_ckpts=1``) and a copy
    of its work dir to restore before each simulated crash."""
    work = tmp_path_factory.mktemp('crash') / 'work'
    runner = call_tool('train', tiny_cls_configs['m2pt'], '--work-dir', work, *ONE_EPOCH)
    hook = next(h for h in runner.hooks if isinstance(h, CrashSafeCheckpointHook))
    backup = work.parent / 'backup'
    shutil.copytree(work, backup)
    return runner, hook, work, backup


def _restore(work, backup, hook):
    shutil.rmtree(work)
    shutil.copytree(backup, work)
    hook.keep_ckpt_ids = collections.deque([1], hook.max_keep_ckpts)


def _kill_when(monkeypatch, module, name, condition=lambda *a, **k: True):
    original = getattr(module, name)

    def maybe_kill(*args, **kwargs):
        if condition(*args, **kwargs):
            raise Killed(name)
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, maybe_kill)


CRASH_POINTS = {
    # the new checkpoint's bytes are in its temporary file, not yet renamed to epoch_2.pth
    'writing the checkpoint': (checkpoint_writing.os, 'replace',
                               lambda tmp, dst: str(dst).endswith('epoch_2.pth')),
    'writing the deploy twin': (merge_pathway_hook, 'write_deploy_checkpoint', None),
    'updating last_checkpoint': (crash_safe_checkpoint_hook, 'atomic_write_text', None),
    'rotating': (CrashSafeCheckpointHook, '_remove', None),
}


@pytest.mark.parametrize('point', sorted(CRASH_POINTS))
def test_a_save_killed_at_any_step_leaves_a_checkpoint_resume_finds(one_epoch, point,
                                                                      monkeypatch):
    runner, hook, work, backup = one_epoch
    _restore(work, backup, hook)
    module, name, condition = CRASH_POINTS[point]
    _kill_when(monkeypatch, module, name, condition or (lambda *a, **k: True))
    with pytest.raises(Killed):
        hook._save_checkpoint_with_step(runner, 2, dict(epoch=2, iter=runner.iter))
    monkeypatch.undo()
    resume = find_resume_checkpoint(str(work), warn=lambda m: None)
    check_checkpoint_file(resume)
    checkpoint = torch.load(resume, map_location='cpu', weights_only=True)
    assert {'state_dict', 'optimizer', 'message_hub'} <= set(checkpoint)
    # nothing was rotated away before the new checkpoint and the pointer were in place
    assert (work / 'epoch_1.pth').is_file() or (work / 'last_checkpoint').read_text().endswith(
        'epoch_2.pth')


def test_rotation_comes_last_and_takes_the_deploy_twin(one_epoch):
    runner, hook, work, backup = one_epoch
    _restore(work, backup, hook)
    hook._save_checkpoint_with_step(runner, 2, dict(epoch=2, iter=runner.iter))
    assert sorted(p.name for p in work.glob('*.pth')) == ['epoch_2.pth', 'epoch_2_deploy.pth']
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_2.pth')
    assert runner.message_hub.get_info('keep_ckpt_ids') == [2]


def test_resume_after_a_kill_mid_save_continues_and_removes_the_temporary_file(
        one_epoch, tiny_cls_configs, monkeypatch, tmp_path):
    runner, hook, work, backup = one_epoch
    _restore(work, backup, hook)
    work2 = tmp_path / 'work'
    shutil.copytree(work, work2)
    stale = work2 / '.epoch_2.pth.abc123.tmp'  # what a kill during the write leaves
    stale.write_bytes(b'half a checkpoint')
    resumed = call_tool('train', tiny_cls_configs['m2pt'], '--work-dir', work2, '--resume',
                        '--cfg-options', 'train_cfg.max_epochs=2',
                        'default_hooks.checkpoint.max_keep_ckpts=1',
                        'default_hooks.checkpoint.save_best=None')
    assert resumed.epoch == 2 and not stale.exists()
    assert sorted(p.name for p in work2.glob('*.pth')) == ['epoch_2.pth', 'epoch_2_deploy.pth']
    assert state_dict_of(work2 / 'epoch_2.pth').keys() == state_dict_of(work / 'epoch_1.pth').keys()


def test_resume_falls_back_to_the_newest_intact_checkpoint(one_epoch, tmp_path):
    _, _, work, _ = one_epoch
    folder = tmp_path / 'w'
    folder.mkdir()
    shutil.copy(work / 'epoch_1.pth', folder / 'epoch_1.pth')
    data = (work / 'epoch_1.pth').read_bytes()
    (folder / 'epoch_3.pth').write_bytes(data[:len(data) // 2])  # damaged: truncated
    (folder / 'last_checkpoint').write_text(str(folder / 'epoch_4.pth'))  # missing
    messages = []
    assert find_resume_checkpoint(str(folder), warn=messages.append) == str(folder / 'epoch_1.pth')
    assert 'epoch_4.pth' in messages[0] and 'newest intact checkpoint' in messages[0]
    (folder / 'epoch_1.pth').unlink()
    with pytest.raises(CheckpointError,
                       match=r"no other intact checkpoint \(found: \['epoch_3.pth'\]"):
        find_resume_checkpoint(str(folder))
    assert find_resume_checkpoint(str(tmp_path / 'empty')) is None


def test_resume_skips_a_checkpoint_with_flipped_bytes_for_the_newest_intact_one(one_epoch,
                                                                               tmp_path):
    from m2pt_mm.testing.bad_files import flip_tensor_byte
    _, _, work, _ = one_epoch
    for name in ('epoch_1.pth', 'epoch_2.pth'):
        shutil.copy(work / 'epoch_1.pth', tmp_path / name)
    record = flip_tensor_byte(tmp_path / 'epoch_2.pth')  # complete zip, one tensor changed
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    messages = []
    assert find_resume_checkpoint(str(tmp_path), messages.append) == str(tmp_path / 'epoch_1.pth')
    assert f'{record!r} does not match its CRC-32' in messages[0], messages
