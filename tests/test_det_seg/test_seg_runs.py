"""Real runs of the tiny UperNet through tools/: train → deploy checkpoint → IoUMetric, one
process vs two (torchrun, gloo, CPU), and a 2-process training and its resume. One-process runs are
in-process (``call_tool``); ``dist_*.sh`` run as real processes."""
import pytest
import torch

import m2pt_mm.engine  # noqa: F401  safe-globals allow-list for reading training checkpoints
from tests.helpers import (
    SEG,
    SEG_M2PT,
    call_tool,
    cfg_options,
    data_options,
    evaluate,
    evaluate_two_processes,
    run_dist,
)


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
