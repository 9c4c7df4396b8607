"""``CrashSafeCheckpointHook`` edge cases mmengine's own ``CheckpointHook`` tests drive: a runner,
then ``after_val_epoch`` called by hand. Two improving validations at the same epoch write the
same best file name; the deferred removal of the "previous" best must not delete it."""
import pytest
import torch
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from m2pt_mm.engine.hooks import CrashSafeCheckpointHook
from tests.helpers import TinyRegressor


def _trained_runner(work_dir, **checkpoint) -> Runner:
    runner = Runner(
        model=TinyRegressor(), work_dir=str(work_dir),
        experiment_name=f'best_edges_{work_dir.name}',
        train_dataloader=DataLoader([dict(inputs=torch.ones(2))] * 2, batch_size=2),  # 1 step/epoch
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(checkpoint=dict(type='CrashSafeCheckpointHook', **checkpoint)),
        default_scope='mmengine')
    runner.train()
    return runner


@pytest.mark.parametrize('save_best', ['acc', ['acc', 'mAP']])
def test_two_improving_validations_at_one_epoch_keep_the_best_file(tmp_path, save_best):
    runner = _trained_runner(tmp_path, interval=1, save_best=save_best)
    hook = next(h for h in runner.hooks if isinstance(h, CrashSafeCheckpointHook))
    # validation twice after the same epoch, each better than the last (mmengine's tests do so)
    hook.after_val_epoch(runner, dict(acc=0.5, mAP=0.5))
    hook.after_val_epoch(runner, dict(acc=0.6, mAP=0.6))
    keys = ['best_ckpt'] if isinstance(save_best, str) else [f'best_ckpt_{k}' for k in save_best]
    for key in keys:
        best = runner.message_hub.get_info(key)
        assert best is not None and best.endswith('epoch_1.pth'), (key, best)
        assert (tmp_path / best.split('/')[-1]).is_file(), f'{key} names a missing file {best}'
    score_key = 'best_score' if isinstance(save_best, str) else 'best_score_acc'
    assert runner.message_hub.get_info(score_key) == 0.6
    # the file holds the second validation's state: saved after it, with its score
    ckpt = torch.load(tmp_path / 'best_acc_epoch_1.pth', map_location='cpu', weights_only=False)
    assert ckpt['message_hub']['runtime_info'][score_key] == 0.6


def test_a_better_later_epoch_still_removes_the_previous_best(tmp_path):
    runner = _trained_runner(tmp_path, interval=1, save_best='acc')
    hook = next(h for h in runner.hooks if isinstance(h, CrashSafeCheckpointHook))
    hook.after_val_epoch(runner, dict(acc=0.5))
    runner.train_loop._epoch += 1  # as mmengine's tests move the runner on
    hook.after_val_epoch(runner, dict(acc=0.6))
    assert sorted(p.name for p in tmp_path.glob('best_*.pth')) == ['best_acc_epoch_2.pth']


def test_a_mistyped_option_is_refused_when_the_hook_is_built():
    # before: accepted, then a TypeError from Runner.save_checkpoint at the first save
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['intervl'\]; did you mean "
                       r"'interval' for 'intervl'\?"):
        CrashSafeCheckpointHook(intervl=1)
