"""The M2PT backbone inside the real mmdet Mask R-CNN and mmseg UperNet (tiny configs): training
steps reach W, W′ and λ; merged, unmerged and plain-config models predict the same."""
import copy

import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

import m2pt_mm.models  # noqa: F401
from m2pt_mm.testing.tiny import assert_merge_is_exact, set_scales
from tests.helpers import (
    DET,
    DET_M2PT,
    SEG,
    SEG_M2PT,
    build_det_seg,
    det_seg_scope,
    predict,
    prediction_tensors,
    tiny_config,
)


@pytest.fixture(scope='module', params=[DET_M2PT, SEG_M2PT], ids=['mask-rcnn', 'upernet'])
def m2pt_model(request, scenes, aux_file):
    cfg = tiny_config(request.param, scenes, aux_file)
    return (request.param, cfg) + build_det_seg(cfg, det_seg_scope(request.param))


def test_training_step_reaches_w_aux_and_scales(m2pt_model):
    path, cfg, model, train, _ = m2pt_model
    model = copy.deepcopy(model).train()
    with DefaultScope.overwrite_default_scope(det_seg_scope(path)):
        data = model.data_preprocessor(pseudo_collate([train[0], train[1]]), training=True)
        losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    qkv = model.backbone.layers[0].attn.qkv
    assert qkv.weight.grad.abs().sum() > 0
    # λ starts at 0, so W′ gets no gradient yet (dL/dW′ = λ dL/dW), but λ itself does
    assert qkv.cross_modal_scale.grad.abs().sum() > 0
    for name, param in model.named_parameters():
        if param.requires_grad and name.startswith(('neck.', 'decode_head.', 'roi_head.')):
            assert param.grad is not None, name


def test_merged_unmerged_and_plain_config_predict_the_same(m2pt_model, scenes, aux_file):
    path, cfg, model, _, val = m2pt_model
    scope = det_seg_scope(path)
    model = copy.deepcopy(model).eval()
    set_scales(model, lambda name: 0.02 + 0.01 * (hash(name) % 5))
    batch = [val[0], val[1]]
    if scope == 'mmdet':
        assert len(prediction_tensors(predict(model, batch, scope), scope)[1]) > 0, \
            'no detections to compare'
    # the deploy state dict loads strict=True into the same config with pathway=None
    plain, _, _ = build_det_seg(tiny_config(DET if scope == 'mmdet' else SEG, scenes), scope)
    assert_merge_is_exact(model, lambda m: prediction_tensors(predict(m, batch, scope), scope),
                          plain)
