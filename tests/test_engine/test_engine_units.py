"""Engine pieces in process: optimiser param groups, atomic writes, safe resume allow-list."""
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import OPTIM_WRAPPERS

import m2pt_mm.engine  # noqa: F401
import m2pt_mm.models  # noqa: F401
from m2pt_mm.engine import AtomicLocalBackend
from m2pt_mm.engine.optimizers import PathwayLayerDecayOptimWrapperConstructor
from tests.helpers import tiny_classifier


@pytest.fixture
def aux64(aux64_file):
    return aux64_file


def build_groups(model, custom_keys=None):
    constructor = PathwayLayerDecayOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)),
        dict(layer_decay_rate=0.65, custom_keys=custom_keys or {'.bias': dict(decay_mult=0.0)},
             flat_decay_mult=1.0))
    wrapper = constructor(model)
    assert isinstance(wrapper, OPTIM_WRAPPERS.get('OptimWrapper'))
    return {g['param_name']: g for g in wrapper.optimizer.param_groups}


def test_scales_get_no_weight_decay_and_block_lr(aux64):
    groups = build_groups(tiny_classifier(aux64))
    num_layers = 4 + 2
    for block in range(4):
        expected_scale = 0.65 ** (num_layers - (block + 1) - 1)
        for suffix in ('attn.qkv.cross_modal_scale', 'ffn.layers.1.cross_modal_scale'):
            group = groups[f'backbone.layers.{block}.{suffix}']
            assert group['weight_decay'] == 0.0
            assert group['lr_scale'] == pytest.approx(expected_scale)
        aux = groups[f'backbone.layers.{block}.attn.proj.aux_weight']
        target = groups[f'backbone.layers.{block}.attn.proj.weight']
        assert aux['lr_scale'] == target['lr_scale'] == pytest.approx(expected_scale)
        assert aux['weight_decay'] == 0.05
    assert groups['head.layers.head.weight']['lr_scale'] == 1.0


def test_detector_like_model_without_get_layer_depth(aux64):
    classifier = tiny_classifier(aux64)

    class Detector(torch.nn.Module):  # the shape of an mmdet/mmseg model: backbone + heads
        def __init__(self):
            super().__init__()
            self.backbone = classifier.backbone
            self.roi_head = torch.nn.Linear(64, 3)
    groups = build_groups(Detector())
    assert groups['backbone.layers.0.attn.qkv.cross_modal_scale']['weight_decay'] == 0.0
    assert groups['roi_head.weight']['lr_scale'] == 1.0
    assert groups['backbone.layers.3.attn.qkv.aux_weight']['lr_scale'] == pytest.approx(0.65)


def test_unknown_custom_key_is_an_error(aux64):
    with pytest.raises(KeyError, match=r"custom_keys \['.pos_embedd'\] match no parameter"):
        build_groups(tiny_classifier(aux64), {'.pos_embedd': dict(decay_mult=0.0)})


def test_atomic_backend_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    backend = AtomicLocalBackend()
    backend.put(b'old', target)

    def broken_fsync(fd):
        raise OSError('disk full')
    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(OSError, match='disk full'):
        backend.put(b'new content', target)
    assert target.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']


def test_safe_resume_getattr_is_restricted():
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer

    from m2pt_mm.checkpoints.safe_globals import _history_buffer_getattr
    assert _history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='refused getattr'):
        _history_buffer_getattr(os, 'system')
    with pytest.raises(pickle.UnpicklingError, match='refused getattr'):
        _history_buffer_getattr(HistoryBuffer, '__init__')


def test_checkpoint_using_getattr_beyond_history_buffer_is_refused(tmp_path):
    """A file that uses getattr on an allow-listed class for anything but HistoryBuffer's
    statistics methods is refused by the restricted getattr."""
    import pickle

    import numpy as np

    class Evil:
        def __reduce__(self):
            return (getattr, (np.ndarray, 'tofile'))
    torch.save({'x': Evil()}, tmp_path / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError,
                       match=r"refused getattr\(<class 'numpy.ndarray'>, 'tofile'\)"):
        torch.load(tmp_path / 'evil.pth', weights_only=True)


def test_a_config_text_is_formatted_by_yapf_once():
    # a Runner reads pretty_text four times while it is built; yapf took 5 s each for OmniVec
    import mmengine.config.config as config_module

    import m2pt_mm.engine  # noqa: F401  applies memoize_config_formatting
    cfg = Config(dict(model=dict(type='X', depth=4, layers=[1, 2, 3]), work_dir='w'))
    before = config_module.FormatCode.cache_info()
    first = cfg.pretty_text
    assert cfg.pretty_text == first
    after = config_module.FormatCode.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
    assert Config.fromstring(first, '.py').to_dict() == cfg.to_dict()  # still the config


def test_deploy_twins_are_found_and_removed_with_their_checkpoint(tmp_path):
    from mmengine.fileio import LocalBackend

    from m2pt_mm.engine.checkpoint_writing import orphan_deploy_files, remove_with_deploy_twin
    for name in ('epoch_1.pth', 'epoch_1_deploy.pth', 'epoch_2_deploy.pth', 'best_deploy.pth',
                 'best.pth', 'epoch_3.pth', 'epoch_3_deploy.pth'):
        (tmp_path / name).write_bytes(b'x')
    # epoch_2's checkpoint is gone (another hook's rotation): its twin is the only orphan
    assert orphan_deploy_files(str(tmp_path)) == [str(tmp_path / 'epoch_2_deploy.pth')]
    remove_with_deploy_twin(str(tmp_path / 'epoch_1.pth'), LocalBackend())
    (tmp_path / 'epoch_9').mkdir()  # a strategy that writes a checkpoint as a directory
    remove_with_deploy_twin(str(tmp_path / 'epoch_9'), LocalBackend())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'best.pth', 'best_deploy.pth', 'epoch_2_deploy.pth', 'epoch_3.pth', 'epoch_3_deploy.pth']
