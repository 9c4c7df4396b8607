"""Real runs of the tiny Mask R-CNN through tools/: train → deploy checkpoint → evaluation with
CocoMetric, 1 process vs 2 (torchrun, gloo, CPU), merge_pathway on a detector; the detector's bbox
AP is above its untrained one. One-process runs are in-process (``call_tool``); ``dist_test.sh``
runs as a real process. (UperNet: test_seg_runs.py; two files, so the two workers of the suite
run them side by side.)"""
import json

import pytest
import torch

import m2pt_mm.engine  # noqa: F401  safe-globals allow-list for reading training checkpoints
from tests.helpers import (
    DET,
    DET_M2PT,
    DET_METRICS,
    DET_STEPS,
    DET_TRAINING,
    call_tool,
    cfg_options,
    data_options,
    evaluate,
    evaluate_two_processes,
    record_start_options,
    start_of_training,
    state_dict_of,
)


@pytest.fixture(scope='module')
def det_run(det_scenes, aux_file, tmp_path_factory):
    """The tiny M2PT Mask R-CNN trained DET_STEPS steps on ``det_scenes``; also the COCO metrics
    of its initial weights on the validation scenes (validated once before the first step)."""
    work = tmp_path_factory.mktemp('det_run')
    opts = dict(data_options('det', det_scenes), **DET_TRAINING, **record_start_options(True),
                **{'model.backbone.pathway.aux_checkpoint': aux_file,
                   'default_hooks.checkpoint.interval': DET_STEPS,
                   'train_cfg.val_begin': DET_STEPS + 1})  # no validation after training
    runner = call_tool('train', DET_M2PT, '--work-dir', work, *cfg_options(opts))
    return work, data_options('det', det_scenes), start_of_training(runner).initial_metrics


def test_detector_learns_and_deploy_has_same_coco_metrics_in_plain_config_and_two_processes(
        det_run):
    work, opts, untrained = det_run
    last = f'epoch_{DET_STEPS}'
    assert (work / f'{last}.pth').is_file() and (work / f'{last}_deploy.pth').is_file()
    unmerged = evaluate(DET_M2PT, work / f'{last}.pth', opts, work / 'm2pt.json')
    plain = evaluate(DET, work / f'{last}_deploy.pth', opts, work / 'plain.json')
    dist = evaluate_two_processes(DET, work / f'{last}_deploy.pth', opts, work / 'dist.json')
    assert all(k in plain for k in DET_METRICS)
    for key in DET_METRICS:
        assert unmerged[key] == plain[key] == dist[key], key
    # measured: untrained 0.0 (AP50 0.0, segm 0.0) on every seed tried; trained 0.32 (AP50 0.63,
    # segm 0.11). A few steps from scratch vary a lot: with the scenes of seeds 1, 2 and/or
    # randomness.seed=1 it was 0.02–0.09 (AP50 0.11–0.26, segm 0.004–0.08), so the bars are set
    # below those, not below 0.32
    assert plain['coco/bbox_mAP'] > 0
    assert plain['coco/bbox_mAP'] >= untrained['coco/bbox_mAP'] + 0.01, (plain, untrained)
    assert plain['coco/bbox_mAP_50'] >= untrained['coco/bbox_mAP_50'] + 0.05, (plain, untrained)
    assert plain['coco/segm_mAP'] > untrained['coco/segm_mAP'], (plain, untrained)


def test_det_scenes_hold_one_large_digit_0_each(det_scenes):
    for split, count in (('train', 4), ('val', 4)):
        coco = json.loads((det_scenes / 'coco' / 'annotations' / f'instances_{split}.json')
                          .read_text())
        assert len(coco['images']) == count and len(coco['categories']) == 10
        assert sorted(a['image_id'] for a in coco['annotations']) == list(range(1, count + 1))
        assert {a['category_id'] for a in coco['annotations']} == {1}  # digit-0
        # the ink's box inside a pasted square of 64–96 px
        assert all(48 <= max(a['bbox'][2:]) <= 96 for a in coco['annotations'])


def test_merge_pathway_tool_on_a_detector_equals_the_hook_output(det_run, tmp_path):
    work = det_run[0]
    out = tmp_path / 'merged.pth'
    call_tool('merge_pathway', DET_M2PT, work / f'epoch_{DET_STEPS}.pth', '--out', out)
    tool, hook = state_dict_of(out), state_dict_of(work / f'epoch_{DET_STEPS}_deploy.pth')
    assert sorted(tool) == sorted(hook)
    for key in hook:
        assert torch.equal(tool[key], hook[key]), key
