"""Every full-size config runs, changed only by the one documented override
(:func:`m2pt_mm.testing.config_runs.shrink_config`: ViT width 64, tiny data in the real formats,
two batches): its own model, optimiser wrapper and constructor with its ``paramwise_cfg``, its
parameter schedulers, hooks, sampler, collate and data pipeline, built by mmengine's Runner as
``tools/train.py`` builds them, and one training step (default suite). The ``slow`` set runs each
paper row's whole chain as ``docs/reproduce.md`` prints it (:mod:`m2pt_mm.engine.chain`)."""
import contextlib
from pathlib import Path
from typing import Dict, Optional, Set

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import m2pt_mm.engine  # noqa: F401  hooks, constructor, atomic backend
import m2pt_mm.models  # noqa: F401  registers the backbone and the tokenizers
from m2pt_mm.engine import deploy_path
from m2pt_mm.engine.chain import (
    PUBLISH,
    TEST,
    TRAIN,
    CheckpointRef,
    checkpoints_read,
    load,
    producer,
    run_test_configs,
    train_chain,
    work_dir,
)
from m2pt_mm.testing.config_runs import shrink_config, write_run_checkpoints, write_run_data
from tests.helpers import call_tool

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)
FULL = [p for p in CONFIGS if 'tiny' not in p.stem]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.fixture(scope='module')
def run_data(tmp_path_factory):
    return write_run_data(tmp_path_factory.mktemp('run_data'))


def shrunk(path: Path, run_data, work_dir: Path) -> Config:
    cfg = shrink_config(Config.fromfile(str(path)), run_data)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'{path.stem}_{work_dir.name}'
    return cfg


def built_runner(path: Path, run_data, work_dir: Path) -> Runner:
    """The config's Runner with what ``Runner.train()`` builds before its loop, in its order
    (optimiser wrapper, then parameter schedulers). ``init_weights``, which reads the checkpoints
    a config names, is the chain's part."""
    runner = Runner.from_cfg(shrunk(path, run_data, work_dir))
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.param_schedulers = runner.build_param_scheduler(runner.param_schedulers)
    return runner


@pytest.mark.parametrize('path', FULL, ids=[rel(p) for p in FULL])
def test_config_builds_its_runner_and_its_optimiser_steps(path, run_data, tmp_path, request):
    # the cheap part of a run, for every config in the default suite: the forward and backward
    # at full resolution (30 s for a 1024² Mask R-CNN on 2 cores) are the slow chain's
    runner = built_runner(path, run_data, tmp_path)
    # the visualiser's TensorBoard writer runs a thread until closed
    request.addfinalizer(runner.visualizer.close)
    assert runner.param_schedulers, 'a config without parameter schedulers'
    batch = next(iter(runner.train_dataloader))  # the config's sampler, pipeline and collate
    data = runner.model.data_preprocessor(batch, True)
    assert data['inputs'] is not None
    trainable = {n: p for n, p in runner.model.named_parameters() if p.requires_grad}
    before = {n: p.detach().clone() for n, p in trainable.items()}
    for param in trainable.values():
        param.grad = torch.full_like(param, 1e-3)
    runner.optim_wrapper.step()
    for scheduler in runner.param_schedulers:
        scheduler.step()
    unchanged = [n for n, p in trainable.items() if torch.equal(p.detach(), before[n])]
    assert len(unchanged) < len(trainable), 'the optimiser step moved no parameter'

    # the pathways the config declares, on every block (same layer names at the tiny width)
    key = 'trunk' if 'trunk' in runner.cfg.model else 'backbone'
    declared = runner.cfg.model[key].get('pathway') or []
    declared = [declared] if isinstance(declared, dict) else declared
    vit = getattr(runner.model, key)
    assert len(vit.pathway_cfgs) == len(declared)
    scales = [n for n, _ in runner.model.named_parameters() if 'cross_modal_scale' in n]
    assert len(scales) == sum(vit.num_layers * len(p['layers'])
                                           for p in vit.pathway_cfgs)


# ---------------------------------------------------------------- the whole chain (slow)
class ChainRunner:
    """Runs chain steps as a user runs the guide's commands, in a folder laid out as the guide
    assumes (the relative ``checkpoints/`` and ``work_dirs/`` of the configs and the guide), each
    config shrunk by the one override. ``checkpoints/`` starts with links to the public files
    (tiny) and to the files other configs' chains publish (made once, in ``producers``)."""

    def __init__(self, folder: Path, run_data, public: Dict[str, str],
                 producers: Optional['ChainRunner'] = None) -> None:
        self.folder, self.run_data, self.public = folder, run_data, public
        self.producers = producers or self  # the producers' own inputs are made beside them
        for rel_path, path in public.items():
            link = folder / rel_path
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(path)
        self.ran: Set[str] = set()  # configs whose chain ran (their runners are not kept)

    def config_file(self, config: str) -> str:
        path = self.folder / 'shrunk' / Path(config).name
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            shrink_config(Config.fromfile(str(ROOT / config)), self.run_data).dump(str(path))
        return str(path)

    def checkpoint(self, ref: CheckpointRef) -> str:
        """The file a shrunk run wrote for ``ref``: its best, or its last (a chain's
        ``epoch_N`` is the last of the shrunk one-epoch run)."""
        work = self.folder / ref.work_dir
        if ref.which == 'best':
            found = [p for p in work.glob('best_*.pth') if not p.stem.endswith('_deploy')]
            assert len(found) == 1, f'{work}: best checkpoints {found}'
            path = str(found[0])
        else:  # mmengine writes the path it saved to: relative to the run's folder here
            path = str(self.folder / (work / 'last_checkpoint').read_text().strip())
        return deploy_path(path) if ref.deploy else path

    def run(self, steps) -> list:
        """Each step through its tool, in ``folder``; returns what each tool returned."""
        results = []
        for step in steps:
            if step.tool == TRAIN:
                self.provide_inputs(step.config)
            with contextlib.chdir(self.folder):
                argv = step.argv(self.config_file(step.config), self.checkpoint)
                if step.tool == TRAIN:
                    results.append(call_tool('train', *argv, '--work-dir',
                                             work_dir(step.config)))
                elif step.tool == TEST:
                    results.append(call_tool('test', *argv, '--work-dir',
                                             f'{work_dir(step.config)}/test'))
                else:
                    results.append(call_tool('model_converters/publish_model', *argv))
        return results

    def provide_inputs(self, config: str) -> None:
        """Link every file ``config`` reads that another config's chain publishes (that chain
        run once, by ``producers``)."""
        for path in checkpoints_read(load(config)):
            if (self.folder / path).exists():
                continue
            made_by = producer(path)
            assert made_by and made_by != config, f'{config} reads {path}: nothing makes it'
            made, link = self.producers.make(made_by, path), self.folder / path
            if made != link:  # a producer's own later stage reads its file in place
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(made)

    def make(self, config: str, path: str) -> Path:
        if config not in self.ran:
            self.run(train_chain(config, load(config), test=False))
            self.ran.add(config)
        if path.startswith('work_dirs/'):  # a later stage's load_from: the run's last checkpoint
            return Path(self.checkpoint(CheckpointRef(work_dir(config), 'last')))
        made = self.folder / path
        assert made.is_file(), f'the chain of {config} did not publish {path}'
        return made


@pytest.fixture(scope='module')
def chains(tmp_path_factory, run_data):
    """A new chain folder per test (its own ``work_dirs/`` and published files), sharing the
    public files and the files other chains publish."""
    public = write_run_checkpoints(tmp_path_factory.mktemp('public'))
    producers = ChainRunner(tmp_path_factory.mktemp('producers'), run_data, public)

    def new() -> ChainRunner:
        return ChainRunner(tmp_path_factory.mktemp('chain'), run_data, public, producers)
    return new


@pytest.mark.slow
# explicit ids: pytest names a long string parameter `configN` instead
@pytest.mark.parametrize('config', run_test_configs(), ids=run_test_configs())
def test_config_chain_runs_as_the_guide_prints_it(config, chains, capsys):
    cfg = load(config)
    steps = train_chain(config, cfg)
    runner = chains()
    results = runner.run(steps)
    for step, result in zip(steps, results):
        if step.tool == TEST:
            # mmdet's CocoMetric returns {} when no box of the two-step model passes the score
            # threshold; every other metric reports a number
            assert result or cfg.test_evaluator.type == 'CocoMetric', \
                f'{config}: the test step printed no metric'
            assert all(np.isfinite(v) for v in result.values() if isinstance(v, float)), result
            with capsys.disabled():
                print(f'\n{config}: {" ".join(step.argv(Path(config).name, lambda r: r.which))}'
                      f' -> {result}')
        if step.tool == PUBLISH:
            published = runner.folder / step.out_dir / step.out_name
            assert published.is_file() and not published.is_symlink(), published


def test_a_users_custom_key_that_matches_nothing_is_still_refused(run_data, tmp_path):
    # the MAE fine-tune base drops the Swin-only keys it inherits; a user's own typo still fails
    path = ROOT / 'configs/classification/vit-base-p16_mae-pre_8xb128-coslr-100e_in1k.py'
    cfg = shrunk(path, run_data, tmp_path)
    assert set(cfg.optim_wrapper.paramwise_cfg.custom_keys) == {
        '.ln', '.bias', '.cls_token', '.pos_embed'}
    cfg.optim_wrapper.paramwise_cfg.custom_keys['.pos_embedd'] = dict(decay_mult=0.)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(KeyError, match=r"custom_keys \['.pos_embedd'\] match no parameter"):
        runner.build_optim_wrapper(runner.optim_wrapper)
