"""Weights loaded for use are checked for shape and finiteness on every path (#24 §1): before,
a checkpoint of another width tested a randomly initialised model (top-1 4.69, exit 0) and
``load_from`` trained from scratch; a NaN tensor tested at 0.00 and merged into a NaN deploy file,
all with exit 0."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from m2pt_mm.checkpoints import CheckpointError
from m2pt_mm.engine.hooks import CheckpointCheckHook, CheckpointMismatchError
from tests.helpers import call_tool

SHAPE_KEY = 'backbone.ln1.weight'


def _altered(src, out, key: str, change) -> str:
    ckpt = torch.load(src, map_location='cpu', weights_only=True)
    ckpt['state_dict'][key] = change(ckpt['state_dict'][key])
    torch.save(ckpt, out)
    return str(out)


def _wider(t: torch.Tensor) -> torch.Tensor:
    return torch.ones(t.shape[0] * 2)


def _with_nan(t: torch.Tensor) -> torch.Tensor:
    t = t.clone()
    t.view(-1)[0] = float('nan')
    return t


def test_test_refuses_a_checkpoint_of_another_width(trained_classifier, tmp_path):
    bad = _altered(trained_classifier['work'] / 'epoch_3_deploy.pth', tmp_path / 'wide.pth',
                   SHAPE_KEY, _wider)
    with pytest.raises(CheckpointError, match=rf"{bad}.*shapes differ at '{SHAPE_KEY}': "
                       r'checkpoint \[128\], model \[64\]'):
        call_tool('test', trained_classifier['plain'], bad, '--work-dir', tmp_path / 'test')


def test_load_from_refuses_a_checkpoint_of_another_width(trained_classifier, tmp_path):
    bad = _altered(trained_classifier['work'] / 'epoch_3.pth', tmp_path / 'wide.pth', SHAPE_KEY,
                   _wider)
    work = tmp_path / 'run'
    with pytest.raises(CheckpointError, match=rf"shapes differ at '{SHAPE_KEY}'"):
        call_tool('train', trained_classifier['m2pt'], '--work-dir', work,
                  '--cfg-options', f'load_from={bad}')
    assert not list(work.glob('*.pth'))  # refused before the first iteration


def test_test_refuses_nan_weights(trained_classifier, tmp_path):
    bad = _altered(trained_classifier['work'] / 'epoch_3_deploy.pth', tmp_path / 'nan.pth',
                   'head.layers.head.weight', _with_nan)
    with pytest.raises(CheckpointError,
                       match=r"key 'head.layers.head.weight' holds 1 non-finite value"):
        call_tool('test', trained_classifier['plain'], bad, '--work-dir', tmp_path / 'test')


def test_merge_refuses_nan_weights_and_writes_nothing(trained_classifier, tmp_path):
    key = 'backbone.layers.0.attn.qkv.aux_weight'
    bad = _altered(trained_classifier['work'] / 'epoch_3.pth', tmp_path / 'nan.pth', key,
                   _with_nan)
    out = tmp_path / 'deploy.pth'
    with pytest.raises(CheckpointError, match=rf"key '{key}' holds 1 non-finite value"):
        call_tool('merge_pathway', trained_classifier['m2pt'], bad, '--out', out)
    assert not out.exists()


def test_merge_names_the_first_key_of_another_shape(trained_classifier, tmp_path):
    bad = _altered(trained_classifier['work'] / 'epoch_3.pth', tmp_path / 'wide.pth', SHAPE_KEY,
                   _wider)
    with pytest.raises(CheckpointError, match=rf"shapes differ at '{SHAPE_KEY}'"):
        call_tool('merge_pathway', trained_classifier['m2pt'], bad, '--out', tmp_path / 'd.pth')


def _runner(model: nn.Module) -> SimpleNamespace:
    return SimpleNamespace(model=model, _load_from='stage.pth',
                           logger=MMLogger.get_instance('test_load_checks'))


def test_relaxed_check_still_refuses_shapes_and_checkpoints_that_fill_nothing():
    model = nn.Sequential(nn.Linear(4, 3))
    hook = CheckpointCheckHook(strict=False)
    partial = {'state_dict': {'0.weight': torch.zeros(3, 4)}}  # the bias missing: a warning
    hook.after_load_checkpoint(_runner(model), partial)
    with pytest.raises(CheckpointError, match=r"'0.weight': checkpoint \[3, 5\], model \[3, 4\]"):
        hook.after_load_checkpoint(_runner(model), {'state_dict': {'0.weight': torch.zeros(3, 5)}})
    with pytest.raises(CheckpointMismatchError, match='stage.pth fills none of the model'):
        hook.after_load_checkpoint(_runner(model), {'state_dict': {'head.w': torch.zeros(1)}})


def test_a_plain_models_checkpoint_is_not_called_a_deploy_one(trained_classifier, tmp_path):
    # before: "is a merged (deploy) checkpoint" for any checkpoint without pathway parameters
    ckpt = torch.load(trained_classifier['work'] / 'epoch_3_deploy.pth', weights_only=True)
    del ckpt['meta']['deploy']  # as a plain ViT's training checkpoint
    torch.save(ckpt, tmp_path / 'plain_vit.pth')
    with pytest.raises(CheckpointMismatchError, match=r'plain_vit\.pth has no pathway parameters: '
                       r'it is the checkpoint of a model without pathway'):
        call_tool('test', trained_classifier['m2pt'], tmp_path / 'plain_vit.pth',
                  '--work-dir', tmp_path / 'test')
