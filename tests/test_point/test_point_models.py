"""Point part segmentation (Point-MAE head + M2PT backbone) and the point classifier (mmpretrain
ImageClassifier + StackedLinearClsHead): shapes, gradients, merged == unmerged."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.testing import assert_close

import m2pt_mm.models  # noqa: F401
from m2pt_mm.testing.tiny import assert_merge_is_exact, set_scales

D, N = 32, 128
TINY_POINT_BACKBONE = dict(
    type='M2PTVisionTransformer',
    arch=dict(embed_dims=D, num_layers=4, num_heads=2, feedforward_channels=64),
    tokenizer=dict(type='PointTokenizer', num_groups=16, group_size=8),
    qkv_bias=False, norm_cfg=dict(type='LN', eps=1e-5), drop_path_rate=0.)
#: W′ starts at zero; the tests fill it themselves (randomise_aux)
ZERO_AUX = dict(aux_checkpoint=None, allow_zero_aux=True)


def seg_cfg(pathway=ZERO_AUX, num_categories=16, num_classes=50):
    backbone = dict(TINY_POINT_BACKBONE, with_cls_token=False, out_type='featmap',
                    out_indices=(1, 2, 3), norm_outs=True, pathway=pathway)
    head = dict(type='PointPartSegHead', num_classes=num_classes, num_categories=num_categories,
                label_channels=8, fp_channels=(64, 32), mid_channels=(32, 16))
    return dict(type='PointPartSegmentor', backbone=backbone, head=head)


def cls_cfg(pathway=ZERO_AUX):
    return dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=40),
        backbone=dict(TINY_POINT_BACKBONE, with_cls_token=True, out_type='cls_max',
                      pathway=pathway),
        head=dict(type='StackedLinearClsHead', num_classes=40, in_channels=2 * D,
                  mid_channels=[16, 16], dropout_rate=0.5, norm_cfg=dict(type='BN1d')))


def seg_batch(model, batch=3, num_classes=50, category=True):
    samples = []
    for i in range(batch):
        sample = DataSample()
        if category:
            sample.set_gt_label(i % 16)
        sample.set_field(torch.randint(0, num_classes, (N, )), 'gt_seg_label')
        samples.append(sample)
    data = dict(inputs=list(torch.randn(batch, N, 3)), data_samples=samples)
    return model.data_preprocessor(data, True)


def randomise_aux(model):
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'aux_weight' in name:
                param.normal_(0, 0.05)
    set_scales(model, lambda name: 0.1 + 0.01 * (hash(name) % 7))


def test_part_seg_forward_backward_reaches_every_trainable_part():
    model = MODELS.build(seg_cfg())
    model.init_weights()
    randomise_aux(model)  # with λ = 0, W′ gets no gradient (∂y/∂W′ = λx)
    data = seg_batch(model)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss', 'accuracy'} and torch.isfinite(losses['loss'])
    losses['loss'].backward()
    for name in ('backbone.layers.0.attn.qkv.aux_weight',
                 'backbone.layers.3.ffn.layers.1.cross_modal_scale',
                 'backbone.patch_embed.encoder.first_conv.0.weight',
                 'head.label_conv.conv.weight', 'head.propagation.0.conv.weight',
                 'head.classifier.weight'):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    assert model(data['inputs'], data['data_samples']).shape == (3, 50, N)
    model.eval()
    out = model(**data, mode='predict')
    assert out[0].pred_seg_score.shape == (N, 50)
    assert torch.equal(out[0].pred_seg_label, out[0].pred_seg_score.argmax(1))


def test_head_layers_are_point_mae_conv_bn_act():
    head = MODELS.build(dict(type='PointPartSegHead', in_channels=8, num_classes=4, num_feats=1,
                             label_channels=4, fp_channels=(6, ), mid_channels=(5, )))
    block = head.propagation[0]
    assert block.conv.bias is None and isinstance(block.activate, torch.nn.ReLU)
    assert head.label_conv.activate.negative_slope == 0.2
    # Point-MAE's Conv1d has a bias; BN (training mode) subtracts it again
    x, bias = torch.randn(2, 8 + 3, 7), torch.randn(6)
    expected = F.relu(F.batch_norm(F.conv1d(x, block.conv.weight, bias), None, None,
                                   block.bn.weight, block.bn.bias, training=True))
    assert_close(block(x), expected, rtol=1e-4, atol=1e-5)


def test_part_seg_without_category_and_missing_category_errors():
    partnet = MODELS.build(seg_cfg(num_categories=None, num_classes=4))
    data = seg_batch(partnet, num_classes=4, category=False)
    assert torch.isfinite(partnet(**data, mode='loss')['loss'])
    assert partnet.head.label_conv is None
    shapenet = MODELS.build(seg_cfg())
    with pytest.raises(ValueError, match='gt_label'):
        shapenet(**seg_batch(shapenet, category=False), mode='loss')


def test_part_seg_needs_point_centres():
    cfg = seg_cfg(pathway=None)
    cfg['backbone'] = dict(cfg['backbone'], tokenizer=dict(type='ImageTokenizer'), img_size=32,
                           patch_size=8)
    model = MODELS.build(cfg)
    with pytest.raises(TypeError, match=r'needs a point tokenizer \(PointCentres from '
                                        r'forward_with_grid\), got the token grid \(4, 4\)'):
        model.extract_feat(torch.randn(2, 3, 32, 32))


def test_point_classifier_forward_backward():
    model = MODELS.build(cls_cfg())
    model.init_weights()
    samples = [DataSample().set_gt_label(i) for i in (0, 5, 39)]
    data = model.data_preprocessor(dict(inputs=list(torch.randn(3, N, 3)), data_samples=samples),
                                   True)
    assert data['inputs'].shape == (3, N, 3)  # ClsDataPreprocessor stacks point clouds as they are
    losses = model(**data, mode='loss')
    losses['loss'].backward()
    assert model.backbone.cls_pos.grad.abs().sum() > 0
    assert model.backbone.layers[0].attn.qkv.cross_modal_scale.grad is not None
    model.eval()
    out = model(**data, mode='predict')
    assert out[0].pred_score.shape == (40, )


@pytest.mark.parametrize('build', [seg_cfg, cls_cfg])
def test_merged_equals_unmerged_and_deploy_state_loads_into_plain_model(build):
    model = MODELS.build(build())
    model.init_weights()
    randomise_aux(model)
    model.eval()
    torch.manual_seed(3)
    if build is seg_cfg:
        data = seg_batch(model)
        args = (data['inputs'], data['data_samples'])
    else:
        data = model.data_preprocessor(dict(inputs=list(torch.randn(3, N, 3))), False)
        args = (data['inputs'], )
    without_aux = copy.deepcopy(model)
    set_scales(without_aux, 0.)
    with torch.no_grad():  # the pathway matters
        assert not torch.allclose(without_aux(*args), model(*args), atol=1e-4)
    assert_merge_is_exact(model, lambda m: m(*args), MODELS.build(build(pathway=None)),
                          rtol=1e-4, atol=1e-5)
