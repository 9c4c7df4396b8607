"""Shared fixtures: tiny ViTs and checkpoints written in the real on-disk layouts, and the
session-wide trained runs that many tests read."""
import gc
import os
from typing import Any, Dict

import pytest
import torch

from m2pt_mm.testing.tiny import mae_checkpoint, timm_state_dict, write_image_folder
from tests.helpers import call_tool, write_tiny_cls_config


@pytest.fixture(autouse=True)
def _seed_and_scope():
    torch.manual_seed(0)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


#: Cyclic garbage a test process may hold before it is collected (bytes of resident memory).
GARBAGE_ALLOWANCE = 1 << 30
_rss_after_collect = [0]


def _rss() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


@pytest.fixture(autouse=True)
def _collect_cyclic_garbage():
    """Collect reference cycles once they hold more than GARBAGE_ALLOWANCE.

    Models are freed only by the cyclic collector (mmpretrain's ViT registers its own bound method
    as a load_state_dict hook; mmengine's hooks and runners point back at their owners), and after
    the libraries are imported a full collection waits until the long-lived object count grows by a
    quarter. A serial run of every test (full-size builds after the config runs) reached 24 GB of
    unreachable ViTs that way and was killed; collecting after each test would cost ~0.2 s each.
    """
    yield
    if not os.path.exists('/proc/self/statm'):
        return
    if _rss() - _rss_after_collect[0] > GARBAGE_ALLOWANCE:
        gc.collect()
        _rss_after_collect[0] = _rss()


@pytest.fixture
def aux_timm_file(tmp_path):
    """A timm-layout aux checkpoint on disk (seed 1) and its state dict."""
    sd = timm_state_dict(seed=1)
    path = tmp_path / 'aux_timm.pth'
    torch.save(sd, path)
    return str(path), sd


@pytest.fixture
def target_mae_file(tmp_path):
    """An MAE-layout target checkpoint on disk (seed 2, with decoder) and its encoder dict."""
    ckpt = mae_checkpoint(seed=2, with_decoder=True)
    path = tmp_path / 'mae_pretrain_vit_tiny.pth'
    torch.save(ckpt, path)
    return str(path), ckpt['model']


# ---------------------------------------------------------------- shared across the session
# Written or trained once, read by every test that only reads them. Tests must not modify them.
@pytest.fixture(scope='session')
def aux64_file(tmp_path_factory) -> str:
    """A timm-layout 4 × 64 ViT (seed 1): the auxiliary model of the tiny M2PT configs
    (``configs/_base_/models/m2pt_vit-tiny-p8.py`` and the tiny audio/video/point/det/seg ones)."""
    path = tmp_path_factory.mktemp('aux') / 'aux_vit_4x64.pth'
    torch.save(timm_state_dict(seed=1, dims=64), path)
    return str(path)


@pytest.fixture(scope='session')
def tiny_cls_configs(tmp_path_factory, aux64_file) -> Dict[str, str]:
    """The 2-class stripes image folder and the tiny classifier configs on it:
    ``{'m2pt': path, 'plain': path, 'data': folder}``."""
    tmp = tmp_path_factory.mktemp('tiny_cls')
    data = write_image_folder(tmp / 'data')
    return dict(m2pt=write_tiny_cls_config(tmp / 'm2pt.py', data, aux64_file),
                plain=write_tiny_cls_config(tmp / 'plain.py', data, None), data=str(data))


@pytest.fixture(scope='session')
def trained_classifier(tmp_path_factory, tiny_cls_configs) -> Dict[str, Any]:
    """One uninterrupted 3-epoch run of the tiny M2PT classifier through ``tools/train.py``
    (in-process): ``{'work': Path, 'm2pt': config, 'plain': config}``."""
    work = tmp_path_factory.mktemp('trained_classifier')
    call_tool('train', tiny_cls_configs['m2pt'], '--work-dir', work)
    return dict(work=work, **tiny_cls_configs)
