"""``ModalityMixingSampler`` edges: mmengine's ``train_dataloader.num_batch_per_epoch`` (a debug
option that wraps the dataset before the sampler sees it) and proportions that leave sources out
(warned, once)."""
import contextlib
from collections import Counter

import pytest
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.runner.runner import _SlicedDataset

from m2pt_mm.datasets import ModalityMixingSampler, MultiSourceDataset
from m2pt_mm.datasets import samplers as samplers_module
from tests.helpers import ROOT, call_tool

SOURCES = ('digits', 'esc50', 'kinetics', 'modelnet', 'shapenet', 'text')
MODALITY = dict(digits='image', esc50='audio', kinetics='video', modelnet='point',
                shapenet='point', text='text')


class _Numbers(BaseDataset):
    """``size`` samples ``dict(value=i)``: the sampler reads sizes and tags only."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(serialize_data=False)

    def load_data_list(self):
        return [dict(value=i) for i in range(self.size)]


def six_sources(size: int = 12) -> MultiSourceDataset:
    return MultiSourceDataset({
        name: dict(dataset=_Numbers(size), modality=MODALITY[name], task=f'{name}_task',
                   task_group='dense' if name == 'shapenet' else 'simple')
        for name in SOURCES})


def sources_of(dataset: MultiSourceDataset, indices) -> Counter:
    return Counter(dataset.source_names[dataset.source_index(i)] for i in indices)


# ---------------------------------------------------------------- num_batch_per_epoch
def test_the_sampler_reads_the_sources_through_mmengines_slice():
    dataset = six_sources()  # 72 samples: 12 batches of 6 without the slice
    sliced = _SlicedDataset(dataset, 2 * 6)  # what num_batch_per_epoch=2, batch_size=6 builds
    sampler = ModalityMixingSampler(sliced, batch_size=6, seed=0, num_replicas=1, rank=0)
    assert sampler.dataset is dataset and sampler.num_batches() == 2 and len(sampler) == 12
    indices = list(sampler)
    assert len(indices) == 12 and all(0 <= i < len(dataset) for i in indices)
    # still mixed: one sample of every source per batch (not the slice's first 12, all digits)
    for batch in (indices[:6], indices[6:]):
        assert sources_of(dataset, batch) == Counter(SOURCES)
    # the slice caps an explicit epoch length too, and counts every rank's batches
    capped = ModalityMixingSampler(sliced, batch_size=3, seed=0, batches_per_epoch=10,
                                   num_replicas=2, rank=1)
    assert capped.num_batches() == 2 and len(list(capped)) == 6


def test_num_batch_per_epoch_through_runner_build_dataloader():
    loader = Runner.build_dataloader(dict(
        dataset=six_sources(), batch_size=6, num_batch_per_epoch=2, num_workers=0,
        sampler=dict(type='ModalityMixingSampler', batch_size=6),
        collate_fn=dict(type='omnivec_collate')), seed=0)
    assert len(loader) == 2
    batches = list(loader.batch_sampler)
    assert len(batches) == 2 and all(sources_of(loader.dataset, b) == Counter(SOURCES)
                                     for b in batches)


def test_train_tool_runs_num_batch_per_epoch_iterations(tmp_path):
    pytest.importorskip('m2pt_mm.models.omnivec')
    pytest.importorskip('tokenizers')  # the text modality's vocabulary
    from m2pt_mm.testing.omnivec import write_omnivec_tiny
    write_omnivec_tiny(tmp_path / 'data' / 'omnivec-tiny')
    config = ROOT / 'configs' / 'omnivec' / 'omnivec-mae_vit-tiny-p8_1xb10-2e_tiny-multimodal.py'
    with contextlib.chdir(tmp_path), DefaultScope.overwrite_default_scope('mmpretrain'):
        runner = call_tool('train', str(config), '--work-dir', str(tmp_path / 'work'),
                           '--no-validate', '--cfg-options', 'train_cfg.max_epochs=2',
                           'train_dataloader.num_batch_per_epoch=2')
    assert (runner.epoch, runner.iter) == (2, 4)  # 2 epochs of 2 iterations


# ---------------------------------------------------------------- proportions
@pytest.fixture
def fresh_warnings(monkeypatch):
    """Forget the proportions already warned about (the warning is once per process)."""
    monkeypatch.setattr(samplers_module, '_WARNED_UNDRAWN', set(), raising=False)


@contextlib.contextmanager
def run_log(caplog):
    """Capture what ``print_log(logger='current')`` writes (mmengine's loggers are built outside
    ``logging``'s tree, so nothing reaches the root logger caplog listens to)."""
    logger = MMLogger.get_current_instance()
    logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)


def test_proportions_naming_some_sources_warn_once_about_the_rest(caplog, fresh_warnings):
    dataset = six_sources()
    proportions = dict(digits=1, text=2)
    with run_log(caplog):
        sampler = ModalityMixingSampler(dataset, batch_size=6, seed=0, proportions=proportions)
        ModalityMixingSampler(dataset, batch_size=6, seed=0, proportions=proportions)
    warned = [r.getMessage() for r in caplog.records if 'will never be drawn' in r.getMessage()]
    assert len(warned) == 1, warned
    assert "['esc50', 'kinetics', 'modelnet', 'shapenet'] will never be drawn" in warned[0]
    assert set(sources_of(dataset, sampler)) == {'digits', 'text'}  # what the warning says


@pytest.mark.parametrize('proportions', [
    None,
    dict(digits=1, esc50=1, kinetics=1, modelnet=1, shapenet=1, text=1),
    dict(digits=1, text=2, esc50=0, kinetics=0, modelnet=0, shapenet=0),  # left out on purpose
])
def test_no_warning_when_every_source_is_given_a_weight(caplog, fresh_warnings, proportions):
    with run_log(caplog):
        ModalityMixingSampler(six_sources(), batch_size=6, seed=0, proportions=proportions)
    assert not [r for r in caplog.records if 'will never be drawn' in r.getMessage()]

