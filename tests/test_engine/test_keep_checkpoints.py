"""``CrashSafeCheckpointHook(keep_epochs=...)``: the listed epochs' checkpoints survive the
``max_keep_ckpts`` rotation and are saved even off the ``interval`` schedule (paper Table 6 uses
the point model's epoch-20 and epoch-220 checkpoints as auxiliary weights). A real mmengine runner
on a one-layer model: the hook, not the model, is under test. The point pretraining config keeps
every epoch a Table 6 target config reads."""
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from m2pt_mm.engine.hooks import CrashSafeCheckpointHook
from tests.helpers import ROOT, TinyRegressor, state_dict_of


def _train(work_dir, max_epochs: int, **checkpoint) -> Runner:
    runner = Runner(
        model=TinyRegressor(), work_dir=str(work_dir), experiment_name=f'keep_{id(checkpoint)}',
        train_dataloader=DataLoader([dict(inputs=torch.ones(2))] * 2, batch_size=2),  # 1 step/epoch
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CrashSafeCheckpointHook', **checkpoint)),
        default_scope='mmengine')
    runner.train()
    return runner


def test_kept_epochs_outlive_the_rotation(tmp_path):
    # saves at epoch 1 (kept: off the every-2 schedule), 2 (kept: on it), 3 (the last) and 4;
    # the rotation keeps one, so without keep_epochs only epoch 4 would remain
    runner = _train(tmp_path, 4, interval=2, max_keep_ckpts=1, keep_epochs=[1, 2])
    assert sorted(p.name for p in tmp_path.glob('epoch_*.pth')) == [
        'epoch_1.pth', 'epoch_2.pth', 'epoch_4.pth']
    assert (tmp_path / 'last_checkpoint').read_text().endswith('epoch_4.pth')
    hook = next(h for h in runner.hooks if isinstance(h, CrashSafeCheckpointHook))
    assert list(hook.keep_ckpt_ids) == [4]  # mmengine's bookkeeping holds the rotating one only
    # each kept file holds its own epoch's weights, not a later copy
    first, second = (state_dict_of(tmp_path / f'epoch_{e}.pth') for e in (1, 2))
    assert not torch.equal(first['linear.weight'], second['linear.weight'])
    assert torch.load(tmp_path / 'epoch_1.pth', weights_only=True)['meta']['epoch'] == 1


@pytest.mark.parametrize('kwargs, match', [
    (dict(keep_epochs=[0]), 'epoch numbers >= 1'),
    (dict(keep_epochs=[20.0]), 'epoch numbers >= 1'),
    (dict(keep_epochs=[20], by_epoch=False), 'needs by_epoch=True'),
])
def test_bad_keep_epochs_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CrashSafeCheckpointHook(**kwargs)


def test_the_point_pretraining_keeps_every_epoch_a_table_6_config_reads():
    pretrain = Config.fromfile(str(ROOT / 'configs' / 'mae' / (
        'pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024.py')))
    kept = set(pretrain.default_hooks.checkpoint.keep_epochs) | {pretrain.train_cfg.max_epochs}
    rows = sorted(ROOT.glob('configs/classification/m2pt_vit-base-p16-point-ep*_*.py'))
    epochs = {int(re.search(r'-point-ep(\d+)_', p.name).group(1)): p for p in rows}
    assert sorted(epochs) == [20, 220, 300]  # the aux rows of paper Table 6
    assert set(epochs) <= kept
    for epoch, path in epochs.items():  # the name publish_model.py --out-name writes
        aux = Config.fromfile(str(path)).model.backbone.pathway.aux_checkpoint
        assert aux == f'checkpoints/m2pt/pointmae_vit-base-g64_shapenet55-ep{epoch}.pth', path
