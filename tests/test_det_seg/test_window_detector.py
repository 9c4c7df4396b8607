"""The tiny Mask R-CNN with ViTDet's window attention and relative positions
(configs/demo/…-win5-relpos_…): merged, unmerged and the plain config (pathway=None, windows on)
predict the same; trained, its deploy checkpoint gives the same COCO metrics in the plain config.
Both slow: the default suite checks merging with windows at the backbone (test_window_attention)."""

import pytest

from m2pt_mm.models.backbones.m2pt_vit import WindowRelPosAttention
from m2pt_mm.testing.tiny import assert_merge_is_exact, pathway_stand_ins
from tests.helpers import (
    DEMO,
    DET_METRICS,
    DET_STEPS,
    DET_TRAINING,
    build_det_seg,
    call_tool,
    cfg_options,
    data_options,
    evaluate,
    predict,
    prediction_tensors,
    tiny_config,
)

DET_WIN = DEMO / 'mask-rcnn_m2pt-vit-tiny-p8-spectrogram-win5-relpos_scratch_1xb4-6e_digits-coco.py'
PLAIN = {'model.backbone.pathway': None}


@pytest.mark.slow  # ≈ 7 s of CPU (two detectors built, three predictions); the default suite
# checks the same at the backbone: test_window_attention.py
def test_window_detector_merged_unmerged_and_plain_predict_the_same(scenes, aux_file):
    model, _, val = build_det_seg(tiny_config(DET_WIN, scenes, aux_file), 'mmdet')
    backbone = model.backbone
    assert [type(layer.attn) for layer in backbone.layers] == [WindowRelPosAttention] * 4
    assert [layer.attn.window_size for layer in backbone.layers] == [5, 0, 5, 0]
    pathway_stand_ins(model, aux_std=0.05, scale=0.5)
    model.eval()
    batch = [val[0], val[1]]
    assert len(prediction_tensors(predict(model, batch, 'mmdet'), 'mmdet')[1]) > 0, \
        'no detections to compare'
    plain_cfg = tiny_config(DET_WIN, scenes)
    plain_cfg.merge_from_dict(PLAIN)
    plain, _, _ = build_det_seg(plain_cfg, 'mmdet')
    assert_merge_is_exact(
        model, lambda m: prediction_tensors(predict(m, batch, 'mmdet'), 'mmdet'), plain)


@pytest.mark.slow
def test_trained_window_detector_deploy_has_same_coco_metrics_in_plain_config(
        det_scenes, aux_file, tmp_path):
    work = tmp_path / 'run'
    opts = dict(data_options('det', det_scenes), **DET_TRAINING,
                **{'model.backbone.pathway.aux_checkpoint': aux_file,
                   'default_hooks.checkpoint.interval': DET_STEPS,
                   'train_cfg.val_begin': DET_STEPS + 1})
    call_tool('train', DET_WIN, '--work-dir', work, *cfg_options(opts))
    last = f'epoch_{DET_STEPS}'
    data = data_options('det', det_scenes)
    unmerged = evaluate(DET_WIN, work / f'{last}.pth', data, work / 'm2pt.json')
    plain = evaluate(DET_WIN, work / f'{last}_deploy.pth', dict(data, **PLAIN),
                     work / 'plain.json')
    print('unmerged', {k: unmerged[k] for k in DET_METRICS})
    print('plain   ', {k: plain[k] for k in DET_METRICS})
    for key in DET_METRICS:
        assert unmerged[key] == plain[key], key
    assert plain['coco/bbox_mAP_50'] > 0, plain  # it learnt something to compare
