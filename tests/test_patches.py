"""m2pt_mm.patches: every patch of a library is listed, applied, and re-checked on upgrades."""
import dataclasses

import mmengine.runner._flexible_runner as flexible_module
import mmengine.runner.runner as runner_module
import pytest
from mmengine._strategy import FSDPStrategy
from mmengine.config import Config
from mmengine.runner import FlexibleRunner
from mmengine.runner.checkpoint import CheckpointLoader

import m2pt_mm.engine  # noqa: F401  applies the patches
from m2pt_mm import patches
from m2pt_mm.engine import strategies, workers


def test_installed_libraries_match_every_patch():
    changed = patches.changed_upstream()
    assert changed == {}, ('upstream code a patch replaces or relies on changed; re-check each '
                           f'patch named here and update its fingerprint in m2pt_mm/patches.py: '
                           f'{changed}')


def test_a_changed_upstream_function_or_version_is_reported(monkeypatch):
    first = patches.PATCHES[0]
    stale = dataclasses.replace(first, fingerprints=('000000000000', ),
                                written_against='mmengine 0.0.1')
    monkeypatch.setattr(patches, 'PATCHES', (stale, ) + patches.PATCHES[1:])
    notes = patches.changed_upstream()[first.name]
    assert notes[0] == f'mmengine {patches.version("mmengine")} installed, patch written ' \
                       'against 0.0.1'
    module, qualname = first.upstream[0]
    assert notes[1].startswith(f'{module}.{qualname} changed (fingerprint ')


def test_a_moved_upstream_function_is_reported(monkeypatch):
    first = patches.PATCHES[0]
    moved = dataclasses.replace(first, upstream=(('mmengine.config.config', 'Config.gone'), ))
    monkeypatch.setattr(patches, 'PATCHES', (moved, ))
    assert 'has no Config.gone' in patches.changed_upstream()[first.name][0]


def test_upstream_source_is_the_library_file_not_the_patched_attribute():
    source = patches.upstream_source('mmengine.runner._flexible_runner',
                                     'FlexibleRunner.save_checkpoint')
    assert source.startswith('def save_checkpoint(')
    assert FlexibleRunner.save_checkpoint is strategies._save_checkpoint_keeping_step


def test_importing_the_engine_applied_every_patch():
    assert getattr(Config._get_cfg_path, '_m2pt_mm_config_scope', False)
    import mmengine.config.config as config_module
    assert getattr(config_module.FormatCode, '_m2pt_mm_config_scope', False)
    assert CheckpointLoader._schemes[''].__module__ == 'm2pt_mm.checkpoints.loading'
    assert runner_module.default_worker_init_fn is workers.worker_init_fn
    assert flexible_module.default_worker_init_fn is workers.worker_init_fn
    assert FSDPStrategy.load_optim_state_dict is strategies._load_optim_state_dict_by_keyword


def test_applying_the_patches_again_changes_nothing():
    import mmengine.config.config as config_module

    def patched():
        return (Config._get_cfg_path, config_module.FormatCode, FlexibleRunner.save_checkpoint,
                FSDPStrategy.load_optim_state_dict, runner_module.default_worker_init_fn,
                CheckpointLoader._schemes[''])

    before = patched()
    patches.apply_patches()
    assert patched() == before


@pytest.mark.parametrize('patch', patches.PATCHES, ids=lambda p: p.name)
def test_each_patch_names_an_apply_function_and_a_fingerprint_per_upstream_function(patch):
    module, _, func = patch.apply.rpartition('.')
    assert callable(getattr(__import__(module, fromlist=[func]), func))
    assert len(patch.upstream) == len(patch.fingerprints) >= 1
