"""The M2PT backbone with the real mmpretrain parts (tiny sizes, CPU)."""
import copy
import math

import pytest
import torch
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS
from torch.testing import assert_close

import m2pt_mm.models  # noqa: F401  registers M2PTVisionTransformer
from m2pt_mm.checkpoints import CheckpointError
from m2pt_mm.pathway import MMPRETRAIN_LAYERS, CrossModalReparamLinear, is_pathway_param
from m2pt_mm.testing.tiny import (
    TINY,
    TINY_IMG,
    TINY_PATCH,
    assert_merge_is_exact,
    set_scales,
    timm_state_dict,
    tiny_backbone_cfg,
)

TIMM_PATHS = {'qkv': 'attn.qkv', 'proj': 'attn.proj', 'fc1': 'mlp.fc1', 'fc2': 'mlp.fc2'}


def build(**overrides):
    model = MODELS.build(tiny_backbone_cfg(**overrides))
    model.init_weights()
    return model


def stock_vit(**kwargs):
    vit = VisionTransformer(arch=copy.deepcopy(TINY), img_size=TINY_IMG, patch_size=TINY_PATCH,
                            **kwargs)
    vit.eval()  # mmpretrain's BaseBackbone.train() returns None: no chaining
    return vit


def images(n=2, size=TINY_IMG):
    return torch.randn(n, 3, size, size)


def scale_count(model):
    return sum(p.numel() for n, p in model.named_parameters() if 'cross_modal_scale' in n)


@pytest.mark.parametrize('order', ['normal', 'reversed'])
def test_aux_weights_come_from_the_right_blocks(aux_timm_file, order):
    path, sd = aux_timm_file
    model = build(pathway=dict(aux_checkpoint=path, order=order))
    for i in range(4):
        j = i if order == 'normal' else 3 - i
        for alias, mm_path in MMPRETRAIN_LAYERS.items():
            layer = model.layers[i].get_submodule(mm_path)
            assert isinstance(layer, CrossModalReparamLinear)
            assert_close(layer.aux_weight.detach(), sd[f'blocks.{j}.{TIMM_PATHS[alias]}.weight'])
            assert layer.cross_modal_scale.item() == 0.0


def test_pretrained_target_from_mae_file(target_mae_file, aux_timm_file):
    path, encoder = target_mae_file
    model = build(pathway=dict(aux_checkpoint=aux_timm_file[0]),
                  init_cfg=dict(type='Pretrained', checkpoint=path))
    assert_close(model.layers[2].ffn.layers[0][0].weight.detach(),
                 encoder['blocks.2.mlp.fc1.weight'])
    assert_close(model.patch_embed.projection.weight.detach(), encoder['patch_embed.proj.weight'])
    assert_close(model.pos_embed.detach(), encoder['pos_embed'])
    assert_close(model.ln1.weight.detach(), encoder['norm.weight'])
    # W′ still comes from the aux file, not from the target
    assert_close(model.layers[2].ffn.layers[0][0].aux_weight.detach(),
                 aux_timm_file[1]['blocks.2.mlp.fc1.weight'])


def test_the_target_as_its_own_aux_is_refused(target_mae_file, tmp_path):
    """W′ = W (the target's checkpoint given as the aux, or a copy of it) would only rescale W."""
    path = target_mae_file[0]
    copy_path = tmp_path / 'copy_of_target.pth'
    copy_path.write_bytes(open(path, 'rb').read())
    for aux in (path, str(copy_path)):
        with pytest.raises(ValueError, match=r"pathway\[0\]: every W′ read from .* equals the "
                                             r"target's W"):
            build(pathway=dict(aux_checkpoint=aux),
                  init_cfg=dict(type='Pretrained', checkpoint=path))


def test_one_aux_attached_twice_is_refused(aux_timm_file):
    path = aux_timm_file[0]
    with pytest.raises(ValueError, match=r'pathway\[1\] reads .*aux_timm.pth, the aux checkpoint '
                                         r'of pathway\[0\] too'):
        build(pathway=[dict(aux_checkpoint=path), dict(aux_checkpoint=path, layers=['fc1'])])


def test_mae_finetune_layout_keeps_fresh_pooling_norm(target_mae_file):
    model = build(init_cfg=dict(type='Pretrained', checkpoint=target_mae_file[0]), final_norm=False,
                  out_type='avg_featmap')
    assert_close(model.layers[0].attn.qkv.weight.detach(),
                 target_mae_file[1]['blocks.0.attn.qkv.weight'])
    assert model(images())[0].shape == (2, 32)


def test_scale_zero_equals_target_only_model(aux_timm_file):
    model = build(pathway=dict(aux_checkpoint=aux_timm_file[0])).eval()
    plain = stock_vit()
    plain_sd = {k: v for k, v in model.state_dict().items() if not is_pathway_param(k)}
    plain.load_state_dict(plain_sd, strict=True)
    x = images()
    with torch.no_grad():
        assert_close(model(x)[0], plain(x)[0])


@pytest.mark.parametrize('out_type', ['cls_token', 'featmap', 'avg_featmap'])
def test_merged_equals_unmerged_and_loads_strict_into_stock_vit(aux_timm_file, out_type):
    kwargs = dict(out_type=out_type, out_indices=[1, 3])
    if out_type == 'avg_featmap':
        kwargs['final_norm'] = False
    model = build(pathway=dict(aux_checkpoint=aux_timm_file[0]), **kwargs).eval()
    set_scales(model, lambda n: 0.1 * (1 + int(n.split('.')[1])))
    x = images()
    with torch.no_grad():
        before = model(x)
        model.switch_to_deploy()
        model.switch_to_deploy()  # idempotent
        after = model(x)
        stock = stock_vit(**kwargs)
        stock.load_state_dict(model.state_dict(), strict=True)
        reference = stock(x)
    layers = [m for m in model.modules() if isinstance(m, CrossModalReparamLinear)]
    # each layer merged itself in place (RepVGG's convention): deployed, no branch left
    assert len(layers) == 16 and all(m.deploy and m.num_aux == 0 for m in layers)
    assert model.deploy and model.pathway_cfgs == []
    for b, a, r in zip(before, after, reference):
        assert_close(a, b, rtol=0, atol=1e-5)
        assert_close(r, b, rtol=0, atol=1e-5)


def test_deploy_flag_builds_plain_form_that_loads_merged_weights(aux_timm_file):
    model = build(pathway=dict(aux_checkpoint=aux_timm_file[0])).eval()
    set_scales(model, 0.3)
    model.switch_to_deploy()
    deployed = MODELS.build(tiny_backbone_cfg(pathway=dict(aux_checkpoint=aux_timm_file[0]),
                                              deploy=True)).eval()
    assert list(deployed.state_dict()) == list(stock_vit().state_dict())
    deployed.load_state_dict(model.state_dict(), strict=True)
    x = images()
    with torch.no_grad():
        assert_close(deployed(x)[0], model(x)[0])


def test_gradients_reach_w_aux_and_scale(aux_timm_file):
    model = build(pathway=dict(aux_checkpoint=aux_timm_file[0]))
    model(images())[0].pow(2).sum().backward()
    fc1 = model.layers[1].ffn.layers[0][0]
    # at λ = 0 the loss does not depend on W′ yet (dL/dW′ = λ·dL/dW): only λ and W move
    assert fc1.cross_modal_scale.grad.abs().item() > 0 and fc1.weight.grad.abs().sum() > 0
    assert fc1.aux_weight.grad.abs().sum() == 0
    model.zero_grad()
    set_scales(model, 0.1)
    model(images())[0].pow(2).sum().backward()
    fc1 = model.layers[1].ffn.layers[0][0]
    for p in (fc1.weight, fc1.aux_weight, fc1.cross_modal_scale):
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_frozen_aux_and_scale_get_no_gradient(aux_timm_file):
    model = build(pathway=dict(aux_checkpoint=aux_timm_file[0], aux_trainable=False,
                               scale_trainable=False))
    model(images())[0].sum().backward()
    qkv = model.layers[0].attn.qkv
    assert qkv.aux_weight.grad is None and qkv.cross_modal_scale.grad is None
    assert qkv.weight.grad is not None


def test_settings_freeze_exactly_what_they_claim(aux_timm_file, target_mae_file):
    aux = dict(aux_checkpoint=aux_timm_file[0])
    plain_params = sum(p.numel() for p in stock_vit().parameters())
    aux_params = sum(p.numel() for n, p in build(pathway=aux).named_parameters()
                     if 'aux_weight' in n)
    scales = 4 * 4  # blocks × layers
    # pretrained (target from MAE) and from-scratch: everything trains
    for init_cfg in (dict(type='Pretrained', checkpoint=target_mae_file[0]), None):
        model = build(pathway=aux, init_cfg=init_cfg)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        assert trainable == plain_params + aux_params + scales
    # fix: W and W′ frozen, only λ trains (the head lives outside the backbone)
    model = build(pathway=aux, fix_weights=True)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert len(trainable) == scales and all(n.endswith('cross_modal_scale') for n in trainable)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == scales


def test_two_aux_models_at_once(tmp_path, aux_timm_file):
    second = timm_state_dict(seed=7)
    torch.save({'model': second}, tmp_path / 'aux2.pth')
    model = build(pathway=[dict(aux_checkpoint=aux_timm_file[0]),
                           dict(aux_checkpoint=str(tmp_path / 'aux2.pth'), order='reversed',
                                layers=['fc1'])]).eval()
    fc1, qkv = model.layers[0].ffn.layers[0][0], model.layers[0].attn.qkv
    assert fc1.num_aux == 2 and qkv.num_aux == 1
    assert_close(fc1.aux_weight_1.detach(), second['blocks.3.mlp.fc1.weight'])
    assert scale_count(model) == 16 + 4
    set_scales(model, lambda n: 0.2 if n.endswith('_1') else 0.1)
    expected = fc1.weight + 0.1 * fc1.aux_weight + 0.2 * fc1.aux_weight_1
    assert_close(fc1.merged_weight_and_bias()[0], expected)
    x = images()
    with torch.no_grad():
        before = model(x)[0]
        model.switch_to_deploy()
        assert_close(model(x)[0], before, rtol=0, atol=1e-5)


def test_any_input_size_resizes_position_embedding(aux_timm_file):
    model = build(pathway=dict(aux_checkpoint=aux_timm_file[0]), out_type='featmap').eval()
    with torch.no_grad():
        assert model(images(size=48))[0].shape == (2, 32, 6, 6)
        assert model(torch.randn(1, 3, 36, 44))[0].shape == (1, 32, 5, 6)  # padded to 8×8 patches


def test_layer_depth_of_pathway_params(aux_timm_file):
    model = build(pathway=dict(aux_checkpoint=aux_timm_file[0]))
    assert model.get_layer_depth('layers.2.attn.qkv.cross_modal_scale') == (3, 6)
    assert model.get_layer_depth('layers.3.ffn.layers.1.aux_weight') == (4, 6)


def test_classifier_from_config_merged_equals_unmerged_and_loads_into_the_plain_config(
        aux_timm_file):
    from mmengine.config import Config
    cfg = Config.fromfile('configs/_base_/models/m2pt_vit-tiny-p8.py')
    cfg.model.backbone.pathway = dict(allow_zero_aux=True)  # W′ is filled by hand below
    classifier = MODELS.build(cfg.model)
    assert type(classifier).__name__ == 'ImageClassifier'
    assert type(classifier.backbone).__name__ == 'M2PTVisionTransformer'
    classifier.init_weights()
    set_scales(classifier, 0.05)
    with torch.no_grad():
        for n, p in classifier.named_parameters():
            if 'aux_weight' in n:
                p.normal_(0, 0.02)
    classifier.eval()
    x = images(size=32)
    plain_cfg = Config.fromfile('configs/_base_/models/m2pt_vit-tiny-p8.py')  # no pathway
    assert_merge_is_exact(classifier, lambda m: m(x, mode='tensor'), MODELS.build(plain_cfg.model),
                          rtol=0, atol=1e-5)


# ---------------------------------------------------------------- bad input
def test_pathway_without_aux_checkpoint_is_an_error_unless_allowed():
    model = MODELS.build(tiny_backbone_cfg(pathway=dict(layers=['fc1'])))  # a checkpoint may follow
    with pytest.raises(ValueError,
                       match=r'pathway\[0\] has no aux_checkpoint.*allow_zero_aux=True'):
        model.init_weights()
    model = build(pathway=dict(layers=['fc1'], allow_zero_aux=True))
    model.init_weights()
    assert all(m.aux_weight.abs().sum() == 0 for m in model.modules()
               if isinstance(m, CrossModalReparamLinear))


def test_aux_checkpoint_missing_file():
    with pytest.raises(FileNotFoundError, match='no_such_aux.pth'):
        build(pathway=dict(aux_checkpoint='/tmp/no_such_aux.pth'))


@pytest.mark.parametrize('depth,dims,message', [(2, 32, '2 blocks of width 32'),
                                                (4, 48, '4 blocks of width 48')])
def test_aux_checkpoint_wrong_depth_or_width(tmp_path, depth, dims, message):
    torch.save(timm_state_dict(depth=depth, dims=dims), tmp_path / 'aux_other.pth')
    with pytest.raises(CheckpointError,
                       match=rf'pathway\[0\] aux checkpoint .*aux_other\.pth.*'
                             rf'{message}, but the backbone has 4 blocks of width 32'):
        build(pathway=dict(aux_checkpoint=str(tmp_path / 'aux_other.pth')))


def test_target_checkpoint_wrong_layout_is_named(tmp_path):
    sd = timm_state_dict()
    del sd['patch_embed.proj.weight']
    torch.save(sd, tmp_path / 'target.pth')
    with pytest.raises(CheckpointError,
                       match=r"target\.pth.*missing \['patch_embed\.projection\.weight'\]"):
        build(init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'target.pth')))


def test_unknown_layer_alias():
    with pytest.raises(KeyError, match=r"unknown layer alias\(es\) \['qkvv'\].*'qkv', 'proj'"):
        MODELS.build(tiny_backbone_cfg(pathway=dict(layers=['qkvv', 'fc1'])))


def test_bad_order():
    with pytest.raises(ValueError,
                       match=r"order must be one of \('normal', 'reversed'\), got 'random'"):
        MODELS.build(tiny_backbone_cfg(pathway=dict(order='random')))


@pytest.mark.parametrize('bad', [math.nan, math.inf])
def test_non_finite_scale_init(bad):
    with pytest.raises(ValueError, match='scale_init must be a finite number'):
        MODELS.build(tiny_backbone_cfg(pathway=dict(scale_init=bad)))


def test_unknown_pathway_key():
    with pytest.raises(KeyError, match=r"unknown keys \['aux_ckpt'\]"):
        MODELS.build(tiny_backbone_cfg(pathway=dict(aux_ckpt='x.pth')))


def test_unknown_tokenizer_type():
    with pytest.raises(KeyError,
                       match=r"unknown tokenizer type 'SpectrogramTokeniser'.*'ImageTokenizer'"):
        MODELS.build(tiny_backbone_cfg(tokenizer=dict(type='SpectrogramTokeniser')))


def test_wrong_modality_tensor():
    model = build()
    with pytest.raises(ValueError,
                       match=r'expects images of shape \(B, 3, H, W\), got \(2, 1, 32, 32\)'):
        model(torch.randn(2, 1, 32, 32))


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg'])
def test_reachable_from_mmdet_and_mmseg_configs(scope, aux_timm_file):
    """`type='mmpretrain.M2PTVisionTransformer'` from another library's registry and scope,
    as their configs use it with custom_imports (no re-registration)."""
    import importlib

    from mmengine.registry import DefaultScope
    registry = importlib.import_module(f'{scope}.registry').MODELS
    cfg = tiny_backbone_cfg(type='mmpretrain.M2PTVisionTransformer', out_type='featmap',
                            out_indices=[1, 3], pathway=dict(aux_checkpoint=aux_timm_file[0]))
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.build(cfg)
    assert type(model).__name__ == 'M2PTVisionTransformer'
    model.init_weights()
    outs = model(images())
    assert [tuple(o.shape) for o in outs] == [(2, 32, 4, 4)] * 2
