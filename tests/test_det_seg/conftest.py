"""Tiny COCO / ADE20K digit scenes on disk, the tiny det/seg configs pointed at them, and the
evaluation of a checkpoint in one process or two."""
import json
import socket
from pathlib import Path

import pytest
from mmengine.config import Config

from m2pt_mm.testing.digits import write_digit_scenes
from tests.helpers import call_tool, cfg_options, run_tool

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / 'configs' / 'demo'
DET = DEMO / 'mask-rcnn_vit-tiny-p8_scratch_1xb4-6e_digits-coco.py'
DET_M2PT = DEMO / 'mask-rcnn_m2pt-vit-tiny-p8-spectrogram_scratch_1xb4-6e_digits-coco.py'
SEG = DEMO / 'upernet_vit-tiny-p8_scratch_1xb4-40i_digits-ade-96x96.py'
SEG_M2PT = DEMO / 'upernet_m2pt-vit-tiny-p8-spectrogram_scratch_1xb4-40i_digits-ade-96x96.py'

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


def data_options(kind: str, scenes: Path) -> dict:
    """``--cfg-options`` that point a tiny config at the ``scenes`` fixture."""
    if kind == 'det':
        root = f'{scenes}/coco/'
        ann = root + 'annotations/instances_val.json'
        return {'train_dataloader.dataset.data_root': root,
                'val_dataloader.dataset.data_root': root,
                'test_dataloader.dataset.data_root': root,
                'val_evaluator.ann_file': ann, 'test_evaluator.ann_file': ann}
    root = f'{scenes}/ade'
    return {f'{split}_dataloader.dataset.data_root': root for split in ('train', 'val', 'test')}


def tiny_config(path: Path, scenes: Path, aux: str = None) -> Config:
    kind = 'det' if 'mask-rcnn' in path.name else 'seg'
    cfg = Config.fromfile(str(path))
    cfg.merge_from_dict(data_options(kind, scenes))
    if aux is not None:
        cfg.merge_from_dict({'model.backbone.pathway.aux_checkpoint': aux})
    return cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_dist(script: str, *args):
    """``tools/dist_*.sh`` with 2 processes of 1 thread each (the machine has 2 cores)."""
    return run_tool(script, *args, env=dict(PORT=str(_free_port()), OMP_NUM_THREADS='1'))


def evaluate(config, ckpt, opts, out: Path) -> dict:
    """``tools/test.py`` in-process; the metrics as ``--metrics-out`` writes them."""
    call_tool('test', config, ckpt, '--work-dir', out.parent / out.stem, '--metrics-out', out,
              *cfg_options(opts))
    return json.loads(out.read_text())


def evaluate_two_processes(config, ckpt, opts, out: Path) -> dict:
    run_dist('dist_test.sh', config, ckpt, '2', '--work-dir', out.parent / out.stem,
             '--metrics-out', out, *cfg_options(opts))
    return json.loads(out.read_text())
