"""Real runs of the tiny Mask R-CNN and UperNet through tools/: train → deploy checkpoint →
evaluation with CocoMetric / IoUMetric, 1 process vs 2 (torchrun, gloo, CPU), 2-process training
and its resume, merge_pathway on a detector. One-process runs are in-process (``call_tool``);
``dist_*.sh`` run as real processes."""
import json
import socket
from pathlib import Path

import pytest
import torch

import m2pt_mm.engine  # noqa: F401  safe-globals allow-list for reading training checkpoints
from tests.helpers import call_tool, cfg_options, run_tool, state_dict_of
from tests.test_det_seg.conftest import DET, DET_M2PT, SEG, SEG_M2PT, data_options

DET_METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50')


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


@pytest.fixture(scope='module')
def det_run(scenes, aux_file, tmp_path_factory):
    """The tiny M2PT Mask R-CNN trained 1 epoch (2 iterations) on the digit scenes."""
    work = tmp_path_factory.mktemp('det_run')
    opts = dict(data_options('det', scenes), **{'model.backbone.pathway.aux_checkpoint': aux_file,
                                                'train_cfg.max_epochs': 1,
                                                'default_hooks.checkpoint.interval': 1})
    call_tool('train', DET_M2PT, '--work-dir', work, '--no-validate', *cfg_options(opts))
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
    call_tool('train', SEG_M2PT, '--work-dir', work, *cfg_options(opts))
    return work, data_options('seg', scenes)


def test_detector_deploy_checkpoint_same_coco_metrics_with_plain_config_and_two_processes(det_run):
    work, opts = det_run
    assert (work / 'epoch_1.pth').is_file() and (work / 'epoch_1_deploy.pth').is_file()
    unmerged = evaluate(DET_M2PT, work / 'epoch_1.pth', opts, work / 'm2pt.json')
    plain = evaluate(DET, work / 'epoch_1_deploy.pth', opts, work / 'plain.json')
    dist = evaluate_two_processes(DET, work / 'epoch_1_deploy.pth', opts, work / 'dist.json')
    assert all(k in plain for k in DET_METRICS)
    assert plain['coco/bbox_mAP'] >= 0 and plain['coco/segm_mAP'] >= 0  # -1 would mean no gt
    for key in DET_METRICS:
        assert unmerged[key] == plain[key] == dist[key], key


def test_merge_pathway_tool_on_a_detector_equals_the_hook_output(det_run, tmp_path):
    work, _ = det_run
    out = tmp_path / 'merged.pth'
    call_tool('merge_pathway', DET_M2PT, work / 'epoch_1.pth', '--out', out)
    tool, hook = state_dict_of(out), state_dict_of(work / 'epoch_1_deploy.pth')
    assert sorted(tool) == sorted(hook)
    for key in hook:
        assert torch.equal(tool[key], hook[key]), key


def test_segmentor_same_miou_unmerged_plain_and_two_processes(seg_run):
    work, opts = seg_run
    assert (work / 'iter_4_deploy.pth').is_file()
    unmerged = evaluate(SEG_M2PT, work / 'iter_4.pth', opts, work / 'm2pt.json')
    plain = evaluate(SEG, work / 'iter_4_deploy.pth', opts, work / 'plain.json')
    dist = evaluate_two_processes(SEG, work / 'iter_4_deploy.pth', opts, work / 'dist.json')
    for key in ('mIoU', 'aAcc', 'mAcc'):
        assert unmerged[key] == plain[key] == dist[key], key
    assert plain['aAcc'] > 0


def test_two_process_training_and_its_resume(scenes, aux_file, tmp_path):
    work = tmp_path / 'dist_train'
    opts = dict(data_options('seg', scenes), **{'model.backbone.pathway.aux_checkpoint': aux_file,
                                                'train_cfg.max_iters': 2,
                                                'default_hooks.checkpoint.interval': 2})
    run_dist('dist_train.sh', SEG_M2PT, '2', '--work-dir', work, *cfg_options(opts))
    first = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=True)
    assert first['meta']['iter'] == 2 and (work / 'iter_2_deploy.pth').is_file()
    opts['train_cfg.max_iters'] = 3
    opts['default_hooks.checkpoint.interval'] = 1
    result = run_dist('dist_train.sh', SEG_M2PT, '2', '--work-dir', work, '--resume',
                      *cfg_options(opts))
    assert 'resumed epoch: 0, iter: 2' in result.stdout + result.stderr
    resumed = torch.load(work / 'iter_3.pth', map_location='cpu', weights_only=True)
    assert resumed['meta']['iter'] == 3
    assert not (work / 'iter_1.pth').exists()  # it continued from 2, it did not start again
    changed = [k for k in first['state_dict']
               if not torch.equal(first['state_dict'][k], resumed['state_dict'][k])]
    assert any('cross_modal_scale' in k for k in changed)
