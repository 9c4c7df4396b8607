"""Tiny COCO / ADE20K digit scenes on disk (the configs pointed at them, and the evaluation of a
checkpoint, are in ``tests.helpers``)."""
from pathlib import Path

import pytest

from m2pt_mm.testing.digits import write_digit_scenes

pytest.importorskip('sklearn', reason='the digit scans ship with scikit-learn')


@pytest.fixture(scope='session')
def scenes(tmp_path_factory) -> Path:
    """8 training and 4 validation scenes in both formats (``coco/``, ``ade/``)."""
    out = tmp_path_factory.mktemp('scenes')
    write_digit_scenes(str(out), num_train=8, num_val=4, seed=0)
    return out


@pytest.fixture(scope='session')
def aux_file(aux64_file) -> str:
    """The auxiliary model of the tiny M2PT det/seg configs: the session's 4 × 64 ViT."""
    return aux64_file


@pytest.fixture(scope='module')
def det_scenes(tmp_path_factory) -> Path:
    """Scenes a tiny detector learns from scratch in a few steps: one large digit 0 (64–96 px on
    canvases of about 128²) per scene, 4 for training and 4 for validation (one set per test
    module that asks: test_det_runs.py, test_window_detector.py)."""
    out = tmp_path_factory.mktemp('det_scenes')
    write_digit_scenes(str(out), num_train=4, num_val=4, seed=0, max_digits=1,
                       side_range=(64, 96), digits=(0, ))
    return out
