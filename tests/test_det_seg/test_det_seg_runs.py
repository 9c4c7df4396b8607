"""Real runs of the tiny Mask R-CNN and UperNet through tools/: train → deploy checkpoint →
evaluation with CocoMetric / IoUMetric, 1 process vs 2 (torchrun, gloo, CPU), 2-process training
and its resume, merge_pathway on a detector."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

import m2pt_mm.engine  # noqa: F401  safe-globals allow-list for reading training checkpoints
from tests.conftest import ROOT
from tests.test_det_seg.conftest import DET, DET_M2PT, SEG, SEG_M2PT, data_options

VENV_BIN = str(Path(sys.executable).parent)
DET_METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50')


def _options(opts: dict) -> list:
    return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(*args, timeout=600):
    """Run a tools/ script (``.py`` with this Python, ``.sh`` with bash and torchrun on PATH)."""
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get('PATH', ''),
               PORT=str(_free_port()), OMP_NUM_THREADS='1')
    cmd = ['bash', *args] if args[0].endswith('.sh') else [sys.executable, *args]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise AssertionError(f'{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    return result


def evaluate(tool, config, ckpt, opts, out: Path, *extra) -> dict:
    run(tool, str(config), str(ckpt), *extra, '--work-dir', str(out.parent / out.stem),
        '--metrics-out', str(out), *_options(opts))
    return json.loads(out.read_text())


@pytest.fixture(scope='module')
def det_run(scenes, aux_file, tmp_path_factory):
    """The tiny M2PT Mask R-CNN trained 1 epoch (2 iterations) on the digit scenes."""
    work = tmp_path_factory.mktemp('det_run')
    opts = dict(data_options('det', scenes), **{'model.backbone.pathway.aux_checkpoint': aux_file,
                                                'train_cfg.max_epochs': 1,
                                                'default_hooks.checkpoint.interval': 1})
    run('tools/train.py', str(DET_M2PT), '--work-dir', str(work), '--no-validate', *_options(opts))
    return work, data_options('det', scenes)


@pytest.fixture(scope='module')
def seg_run(scenes, aux_file, tmp_path_factory):
    """The tiny M2PT UperNet trained 4 (tiny) steps on the digit scenes."""
    work = tmp_path_factory.mktemp('seg_run')
    opts = dict(data_options('seg', scenes), **{'model.backbone.pathway.aux_checkpoint': aux_file,
                                                'train_cfg.max_iters': 4,
                                                'default_hooks.checkpoint.interval': 4,
                                                # 4 full-lr steps collapse it to one class,
                                                # and equal all-zero metrics would prove nothing
                                                'optim_wrapper.optimizer.lr': 1e-6})
    run('tools/train.py', str(SEG_M2PT), '--work-dir', str(work), *_options(opts))
    return work, data_options('seg', scenes)


def test_detector_deploy_checkpoint_same_coco_metrics_with_plain_config_and_two_processes(det_run):
    work, opts = det_run
    assert (work / 'epoch_1.pth').is_file() and (work / 'epoch_1_deploy.pth').is_file()
    unmerged = evaluate('tools/test.py', DET_M2PT, work / 'epoch_1.pth', opts, work / 'm2pt.json')
    plain = evaluate('tools/test.py', DET, work / 'epoch_1_deploy.pth', opts, work / 'plain.json')
    dist = evaluate('tools/dist_test.sh', DET, work / 'epoch_1_deploy.pth', opts,
                    work / 'dist.json', '2')
    assert all(k in plain for k in DET_METRICS)
    assert plain['coco/bbox_mAP'] >= 0 and plain['coco/segm_mAP'] >= 0  # -1 would mean no gt
    for key in DET_METRICS:
        assert unmerged[key] == plain[key] == dist[key], key


def test_merge_pathway_tool_on_a_detector_equals_the_hook_output(det_run, tmp_path):
    work, _ = det_run
    out = tmp_path / 'merged.pth'
    run('tools/merge_pathway.py', str(DET_M2PT), str(work / 'epoch_1.pth'), '--out', str(out))
    tool = torch.load(out, map_location='cpu', weights_only=True)['state_dict']
    hook = torch.load(work / 'epoch_1_deploy.pth', map_location='cpu',
                      weights_only=True)['state_dict']
    assert sorted(tool) == sorted(hook)
    for key in hook:
        assert_close(tool[key], hook[key])


def test_segmentor_same_miou_unmerged_plain_and_two_processes(seg_run):
    work, opts = seg_run
    assert (work / 'iter_4_deploy.pth').is_file()
    unmerged = evaluate('tools/test.py', SEG_M2PT, work / 'iter_4.pth', opts, work / 'm2pt.json')
    plain = evaluate('tools/test.py', SEG, work / 'iter_4_deploy.pth', opts, work / 'plain.json')
    dist = evaluate('tools/dist_test.sh', SEG, work / 'iter_4_deploy.pth', opts,
                    work / 'dist.json', '2')
    for key in ('mIoU', 'aAcc', 'mAcc'):
        assert unmerged[key] == plain[key] == dist[key], key
    assert plain['aAcc'] > 0


def test_two_process_training_and_its_resume(scenes, aux_file, tmp_path):
    work = tmp_path / 'dist_train'
    opts = dict(data_options('seg', scenes), **{'model.backbone.pathway.aux_checkpoint': aux_file,
                                                'train_cfg.max_iters': 2,
                                                'default_hooks.checkpoint.interval': 2})
    run('tools/dist_train.sh', str(SEG_M2PT), '2', '--work-dir', str(work), *_options(opts))
    first = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=True)
    assert first['meta']['iter'] == 2 and (work / 'iter_2_deploy.pth').is_file()
    opts['train_cfg.max_iters'] = 3
    opts['default_hooks.checkpoint.interval'] = 1
    result = run('tools/dist_train.sh', str(SEG_M2PT), '2', '--work-dir', str(work), '--resume',
                 *_options(opts))
    assert 'resumed epoch: 0, iter: 2' in result.stdout + result.stderr
    resumed = torch.load(work / 'iter_3.pth', map_location='cpu', weights_only=True)
    assert resumed['meta']['iter'] == 3
    assert not (work / 'iter_1.pth').exists()  # it continued from 2, it did not start again
    changed = [k for k in first['state_dict']
               if not torch.equal(first['state_dict'][k], resumed['state_dict'][k])]
    assert any('cross_modal_scale' in k for k in changed)
