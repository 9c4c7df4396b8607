"""A resumed run is exactly the uninterrupted one with random augmentation on (RandomCrop,
Mixup/CutMix, drop path), in the main process and in worker processes; a NaN loss stops the run
naming its iteration."""
import copy
import itertools
import math
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Optional

import pytest
import torch

from m2pt_mm.engine.hooks import derived_seed
from m2pt_mm.testing.processes import kill_when
from tests.helpers import ROOT, call_tool, run_tool, state_dict_of

# The tiny classifier on the runtime base every mmpretrain config uses (so its hooks are the ones
# under test), 2 blocks × 32 dims, with every random draw a training run makes on
RANDOM_CONFIG = """
_base_ = ['{root}/configs/_base_/models/m2pt_vit-tiny-p8.py',
          '{root}/configs/_base_/mmpretrain_runtime.py']
model = dict(
    backbone=dict(arch=dict(_delete_=True, embed_dims={dims}, num_layers={layers},
                            num_heads={heads}, feedforward_channels={dims} * 2),
                  drop_path_rate=0.5),
    head=dict(num_classes=2, in_channels={dims}),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
data_preprocessor = dict(num_classes=2, mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
train_pipeline = [dict(type='LoadImageFromFile'), dict(type='RandomCrop', crop_size=32, padding=6),
                  dict(type='RandomFlip', prob=0.5), dict(type='PackInputs')]
train_dataloader = dict(batch_size=4, num_workers={workers}, persistent_workers=False,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(type='CustomDataset', data_root='{data}',
                                     data_prefix='train', pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
# the schedule does not depend on max_epochs, so a run stopped early is the start of a long one
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=3,
                        convert_to_iter_based=True)]
train_cfg = dict(by_epoch=True, max_epochs={epochs})
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(max_keep_ckpts=1))
visualizer = dict(vis_backends=[dict(type='LocalVisBackend')])
randomness = dict(seed=0)
"""


TINY = dict(dims=32, layers=2, heads=2)
VIT_BASE = dict(dims=768, layers=12, heads=12)  # 86 M parameters: a save takes a while


def write_config(path: Path, data: str, epochs: int, workers: int = 0, arch: dict = TINY) -> str:
    path.write_text(RANDOM_CONFIG.format(root=ROOT, data=data, epochs=epochs, workers=workers,
                                         **arch))
    return str(path)


def differing_tensors(a_path: Path, b_path: Path) -> list:
    a, b = state_dict_of(a_path), state_dict_of(b_path)
    assert list(a) == list(b)
    return [k for k in a if not torch.equal(a[k], b[k])]


def train(cfg, work_dir: Path, resume_from: Optional[Path] = None) -> None:
    """A runner straight from ``cfg`` (mmengine's own resume path: ``load_from`` +
    ``resume=True``), under a unique experiment name (mmengine names its logger after it)."""
    from mmengine.runner import Runner
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'exact_resume_{os.getpid()}_{next(_RUNS)}'
    if resume_from is not None:
        cfg.load_from, cfg.resume = str(resume_from), True
    Runner.from_cfg(cfg).train()


_RUNS = itertools.count()


def iteration_based(cfg) -> None:
    """``cfg`` as an ``IterBasedTrainLoop`` run of 6 iterations over an ``InfiniteSampler``
    (as iteration-based configs have), a checkpoint every 3: the resume starts in the middle of
    a pass over the 16 images (4 batches), where mmengine fetches the 3 consumed batches again
    to skip them."""
    cfg.train_cfg = dict(by_epoch=False, max_iters=6)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, T_max=6, begin=0,
                                end=6)]
    cfg.default_hooks.checkpoint.update(by_epoch=False, interval=3)
    cfg.log_processor = dict(by_epoch=False)


def assert_resume_is_exact(data: str, tmp_path: Path, workers: int, by_epoch: bool = True,
                           persistent: bool = False) -> None:
    """Uninterrupted vs. its first checkpoint resumed by a new runner (the uninterrupted run's
    first checkpoint is what a run killed after it would have written): 2 epochs resumed after
    epoch 1, or 6 iterations resumed after iteration 3."""
    from mmengine.config import Config
    cfg = Config.fromfile(write_config(tmp_path / 'cfg.py', data, epochs=2, workers=workers))
    cfg.default_hooks.checkpoint.max_keep_ckpts = 2
    cfg.train_dataloader.persistent_workers = persistent
    first, last = 'epoch_1.pth', 'epoch_2.pth'
    if not by_epoch:
        iteration_based(cfg)
        first, last = 'iter_3.pth', 'iter_6.pth'
    train(cfg, tmp_path / 'full')
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    shutil.copy(tmp_path / 'full' / first, resumed / first)
    train(cfg, resumed, resume_from=resumed / first)
    assert differing_tensors(tmp_path / 'full' / last, resumed / last) == []


def test_resumed_run_equals_uninterrupted_run_with_random_augmentation(tiny_cls_configs,
                                                                      tmp_path):
    assert_resume_is_exact(tiny_cls_configs['data'], tmp_path, workers=0)


def test_resumed_iteration_based_run_equals_uninterrupted_run_mid_pass(tiny_cls_configs,
                                                                      tmp_path):
    assert_resume_is_exact(tiny_cls_configs['data'], tmp_path, workers=0, by_epoch=False)


@pytest.mark.slow  # a worker process per epoch and run: ~10 s more on 2 cores
@pytest.mark.parametrize('by_epoch', [True, False], ids=['epochs', 'iterations'])
def test_resumed_run_equals_uninterrupted_run_with_a_worker_process(tiny_cls_configs, tmp_path,
                                                                   by_epoch):
    assert_resume_is_exact(tiny_cls_configs['data'], tmp_path, workers=1, by_epoch=by_epoch)


@pytest.mark.slow  # two runs with a worker process: ~7 s
def test_resumed_run_equals_uninterrupted_run_with_persistent_workers(tiny_cls_configs, tmp_path):
    assert_resume_is_exact(tiny_cls_configs['data'], tmp_path, workers=1, persistent=True)


def test_derived_seeds_differ_by_purpose_count_and_rank():
    seeds = {derived_seed(0, purpose, count, rank)
             for purpose in range(3) for count in range(50) for rank in range(4)}
    assert len(seeds) == 3 * 50 * 4 and all(0 <= s < 2**32 for s in seeds)
    assert derived_seed(7, 1, 3, 0) == derived_seed(7, 1, 3, 0)


def test_nan_loss_stops_the_run_naming_the_iteration(tiny_cls_configs, tmp_path):
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module(force=True)
    class PoisonWeightsAtIteration3Hook(Hook):  # a real divergence: NaN weights from iteration 3
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter == 2:
                with torch.no_grad():
                    runner.model.head.layers.head.weight.fill_(math.nan)

    config = write_config(tmp_path / 'nan.py', tiny_cls_configs['data'], epochs=2)
    message = r'loss is nan at iteration 3 \(epoch 1, batch 3\)'
    with pytest.raises(FloatingPointError, match=message):
        call_tool('train', config, '--work-dir', tmp_path / 'nan', '--cfg-options',
                  'default_hooks.poison.type=PoisonWeightsAtIteration3Hook')
    assert not list((tmp_path / 'nan').glob('epoch_*.pth'))  # no NaN checkpoint was written


# ---------------------------------------------------------------- real processes, SIGKILL
@pytest.mark.slow  # three tools/train.py processes: ~1 min of CPU
def test_command_line_sigkill_mid_epoch_then_resume_is_exact(tiny_cls_configs, tmp_path, capsys):
    """tools/analysis/check_resume.py: an uninterrupted tools/train.py run, one killed (SIGKILL)
    two steps into epoch 2 and continued with ``--resume``: every tensor equal (torch.equal)."""
    config = write_config(tmp_path / 'random.py', tiny_cls_configs['data'], epochs=3)
    status = call_tool('analysis/check_resume', config, '--work-dir', tmp_path / 'check',
                       '--kill-after-steps', 2)
    out = capsys.readouterr().out
    assert status == 0, out
    assert re.search(r'^0 of \d+ tensors differ', out, re.M), out
    # the kill was mid-epoch: the resumed run repeated epoch 2 from its start
    assert 'epoch_1.pth' in out.split('work dir at the kill:')[1].splitlines()[0]


def checkpoint_files(work: Path) -> list:
    suffixes = ('.pth', '.tmp', '_checkpoint')
    return sorted(p.name for p in work.iterdir() if p.name.endswith(suffixes))


@pytest.mark.slow  # a ViT-B-sized run (86 M parameters, ~1 GB checkpoints): ~1-2 min
def test_sigkill_while_a_large_checkpoint_is_written_leaves_one_resume_finds(tiny_cls_configs,
                                                                            tmp_path):
    config = write_config(tmp_path / 'vit_base.py', tiny_cls_configs['data'], epochs=2,
                          arch=VIT_BASE)
    work = tmp_path / 'work'
    # kill while epoch 2's checkpoint is being written (the atomic writer's temporary file)
    kill_when([sys.executable, 'tools/train.py', config, '--work-dir', work],
              lambda: bool(list(work.glob('.epoch_2.pth.*.tmp'))),
              what='a save of epoch_2.pth was seen', timeout=600, poll=0.005, cwd=ROOT)
    files = checkpoint_files(work)
    assert 'epoch_1.pth' in files, files  # max_keep_ckpts=1 did not delete it before the save
    assert (work / 'last_checkpoint').read_text().strip().endswith('epoch_1.pth')
    assert any(name.startswith('.epoch_2.pth.') for name in files), files

    result = run_tool('train.py', config, '--work-dir', work, '--resume')
    log = result.stdout + result.stderr
    assert 'resumed epoch: 1' in log and 'temporary file(s) of an interrupted save' in log, log
    files = checkpoint_files(work)
    assert files == ['epoch_2.pth', 'last_checkpoint'], files  # the temporary file is gone
    assert (work / 'last_checkpoint').read_text().strip().endswith('epoch_2.pth')


def test_check_resume_quick_keeps_the_users_cfg_options(tiny_cls_configs):
    """``check_resume.py --quick`` adds its short schedule under the user's own --cfg-options:
    a key the user set keeps the user's value (tools/train.py keeps a key's last value), and the
    tool says so."""
    from tests.helpers import load_tool
    tool = load_tool('analysis/check_resume')
    args = tool.parse_args([tiny_cls_configs['m2pt'], '--quick', '--cfg-options',
                            'train_cfg.max_epochs=3', 'randomness.seed=5'])
    args.quick_options = tool.quick_options(args.config)
    cmd = tool._train_cmd(args, '/tmp/x')
    options = cmd[cmd.index('--cfg-options') + 1:]
    assert options == ['train_cfg.max_epochs=2', 'default_hooks.checkpoint.interval=1',
                       'train_cfg.max_epochs=3', 'randomness.seed=5']
    import argparse

    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    assert parser.parse_args(['--cfg-options', *options]).cfg_options['train_cfg.max_epochs'] == 3
