"""attach / merge / report over plain PyTorch and timm models (no OpenMMLab part)."""
import pytest
import torch
from torch.testing import assert_close

from m2pt_mm.pathway import (
    TIMM_LAYERS,
    CrossModalReparamLinear,
    attach_pathway,
    collect_scales,
    format_scale_table,
    is_pathway_param,
    merge_pathways,
    merge_state_dict,
)
from m2pt_mm.testing.tiny import TINY_IMG, set_scales, timm_vit

OFFICIAL_LAYER_NAMES = ('attn.qkv', 'attn.proj', 'mlp.fc1', 'mlp.fc2')


def images(n=2):
    return torch.randn(n, 3, TINY_IMG, TINY_IMG)


def test_attach_one_call_replaces_exactly_the_named_layers():
    target, aux = timm_vit(seed=0), timm_vit(seed=1)
    names = attach_pathway(target, aux, blocks='blocks', layers=OFFICIAL_LAYER_NAMES)
    assert len(names) == 4 * len(target.blocks)
    reparam = {n for n, m in target.named_modules() if isinstance(m, CrossModalReparamLinear)}
    assert reparam == set(names)
    assert not isinstance(target.head, CrossModalReparamLinear)


def test_scale_zero_model_equals_target_only_model():
    target = timm_vit(seed=0)
    plain = timm_vit(seed=0)
    attach_pathway(target, timm_vit(seed=1), layers=OFFICIAL_LAYER_NAMES)
    x = images()
    target.eval(), plain.eval()
    assert_close(target(x), plain(x))


@pytest.mark.parametrize('order', ['normal', 'reversed'])
def test_mapping_picks_the_right_aux_blocks(order):
    target, aux = timm_vit(seed=0), timm_vit(seed=1)
    attach_pathway(target, aux, layers=OFFICIAL_LAYER_NAMES, order=order)
    depth = len(target.blocks)
    for i in range(depth):
        j = i if order == 'normal' else depth - 1 - i
        for path in OFFICIAL_LAYER_NAMES:
            got = target.blocks[i].get_submodule(path).aux_weight
            assert_close(got.detach(), aux.blocks[j].get_submodule(path).weight.detach())
            if order == 'reversed' and i != j:
                assert not torch.equal(got, aux.blocks[i].get_submodule(path).weight)


def test_aux_as_state_dict_and_alias_mapping():
    target, aux = timm_vit(seed=0), timm_vit(seed=1)
    attach_pathway(target, aux.state_dict(), layers={'qkv': 'attn.qkv', 'fc2': 'mlp.fc2'})
    assert_close(target.blocks[2].attn.qkv.aux_weight.detach(),
                 aux.blocks[2].attn.qkv.weight.detach())
    assert not isinstance(target.blocks[0].attn.proj, CrossModalReparamLinear)


def test_two_aux_models_at_once():
    target, aux_a, aux_b = timm_vit(seed=0), timm_vit(seed=1), timm_vit(seed=2)
    plain = timm_vit(seed=0)
    attach_pathway(target, aux_a, layers=OFFICIAL_LAYER_NAMES)
    attach_pathway(target, aux_b, layers=OFFICIAL_LAYER_NAMES, order='reversed')
    set_scales(target, lambda n: 0.2 if n.endswith('cross_modal_scale') else -0.1)
    layer = target.blocks[0].mlp.fc1
    assert layer.num_aux == 2
    expected = (plain.blocks[0].mlp.fc1.weight + 0.2 * aux_a.blocks[0].mlp.fc1.weight -
                0.1 * aux_b.blocks[-1].mlp.fc1.weight)
    assert_close(layer.merged_weight_and_bias()[0], expected)
    x = images()
    target.eval()
    with torch.no_grad():
        before = target(x)
        merge_pathways(target, inplace=True)
        assert_close(target(x), before)
    records = collect_scales(aux_a)
    assert records == []


def test_merge_gives_plain_linears_and_plain_keys():
    target = timm_vit(seed=0)
    keys = list(target.state_dict())
    attach_pathway(target, timm_vit(seed=1), layers=OFFICIAL_LAYER_NAMES)
    assert any(is_pathway_param(k) for k in target.state_dict())
    set_scales(target, lambda n: 0.5)
    x = images()
    target.eval()
    with torch.no_grad():
        before = target(x)
    merged = merge_pathways(target)
    # a copy by default, as timm's reparameterize_model: the original keeps its pathways
    assert (sum(isinstance(m, CrossModalReparamLinear) for m in target.modules())
            == 4 * len(target.blocks))
    assert not any(isinstance(m, CrossModalReparamLinear) for m in merged.modules())
    assert list(merged.state_dict()) == keys
    with torch.no_grad():
        assert torch.equal(merged(x), before)  # eval cache and fuse share one merge
    assert merge_pathways(target, inplace=True) is target
    assert not any(isinstance(m, CrossModalReparamLinear) for m in target.modules())


def test_timm_reparameterize_model_merges_pathways_without_m2pt_mm():
    from timm.utils.model import reparameterize_model
    target = timm_vit(seed=0)
    attach_pathway(target, timm_vit(seed=1), layers=OFFICIAL_LAYER_NAMES)
    set_scales(target, 0.3)
    x = images()
    target.eval()
    with torch.no_grad():
        before = target(x)
    merged = reparameterize_model(target)
    assert not any(isinstance(m, CrossModalReparamLinear) for m in merged.modules())
    assert list(merged.state_dict()) == list(timm_vit(seed=0).state_dict())
    with torch.no_grad():
        assert torch.equal(merged(x), before)


def test_merge_state_dict_equals_module_merge():
    target = timm_vit(seed=0)
    attach_pathway(target, timm_vit(seed=1), layers=OFFICIAL_LAYER_NAMES, reparam_bias=True)
    attach_pathway(target, timm_vit(seed=2), layers=OFFICIAL_LAYER_NAMES)
    set_scales(target, lambda n: 0.25 if n.endswith('scale') else 0.75)
    merged_sd = merge_state_dict(target.state_dict())
    merged = merge_pathways(target)
    assert list(merged_sd) == list(merged.state_dict())
    for k, v in merged.state_dict().items():
        assert torch.equal(merged_sd[k], v), k  # one merge core: bit-identical


# ---------------------------------------------------------------- the merge dtype policy
def _bf16_pathway_model():
    target = timm_vit(seed=0)
    attach_pathway(target, timm_vit(seed=1), layers=OFFICIAL_LAYER_NAMES)
    attach_pathway(target, timm_vit(seed=2), layers=['mlp.fc1'])
    set_scales(target, lambda n: 0.0123 if n.endswith('scale') else -0.0071)
    return target.eval()


def test_bf16_autocast_deploy_logits_match_and_fp32_merge_is_exact():
    """Training under bf16 autocast keeps fp32 master weights: the merge is fp32 ``W + λW′``
    exactly, and the deploy model's bf16-autocast logits are the unmerged model's."""
    target = _bf16_pathway_model()
    x = images()
    with torch.autocast('cpu', dtype=torch.bfloat16), torch.no_grad():
        unmerged = target(x)
    deploy = merge_pathways(target)
    with torch.autocast('cpu', dtype=torch.bfloat16), torch.no_grad():
        merged = deploy(x)
    assert merged.dtype == torch.bfloat16
    assert_close(merged.float(), unmerged.float(), rtol=1.6e-2, atol=1e-2)
    layer, fused = target.blocks[1].mlp.fc1, deploy.blocks[1].mlp.fc1
    expected = layer.weight + layer.cross_modal_scale * layer.aux_weight
    expected = expected + layer.cross_modal_scale_1 * layer.aux_weight_1
    assert fused.weight.dtype == torch.float32
    assert torch.equal(fused.weight, expected.detach())


def test_bf16_parameters_are_merged_in_fp32_and_rounded_once():
    target = _bf16_pathway_model().to(torch.bfloat16)
    layer = target.blocks[2].mlp.fc1
    w, a0, a1 = layer.weight.detach(), layer.aux_weight.detach(), layer.aux_weight_1.detach()
    s0, s1 = layer.cross_modal_scale.detach(), layer.cross_modal_scale_1.detach()
    exact = (w.float() + s0.float() * a0.float() + s1.float() * a1.float()).to(torch.bfloat16)
    in_bf16 = w + s0 * a0 + s1 * a1  # what a merge in the parameter dtype would give
    assert not torch.equal(exact, in_bf16)  # so this test tells the two policies apart
    merged_module = merge_pathways(target).blocks[2].mlp.fc1.weight.detach()
    merged_sd = merge_state_dict(target.state_dict())['blocks.2.mlp.fc1.weight']
    layer.switch_to_deploy()
    for got in (merged_module, merged_sd, layer.weight.detach()):
        assert got.dtype == torch.bfloat16 and torch.equal(got, exact)


@pytest.mark.parametrize('size', ['tiny',
                                  pytest.param('vit_base_patch16_224', marks=pytest.mark.slow)])
def test_official_usage_attach_train_merge_strict_reload(size):
    """The official README's usage on two timm ViTs (ViT-B/16 in the slow set): one call, train,
    merge back into a plain timm model that loads strict=True into a fresh one."""
    import timm

    def create(num_classes=10):
        if size == 'tiny':
            return timm_vit(seed=0, num_classes=num_classes)
        return timm.create_model(size, pretrained=False, num_classes=num_classes)

    target, aux = create(), create(1000)
    side = 224 if size != 'tiny' else TINY_IMG
    attach_pathway(target, aux, blocks='blocks', layers=OFFICIAL_LAYER_NAMES)
    del aux
    params = [p for p in target.parameters() if p.requires_grad]
    optim = torch.optim.SGD(params, lr=0.05)
    x, y = torch.randn(1, 3, side, side), torch.tensor([3])
    target.train()
    loss = torch.nn.functional.cross_entropy(target(x), y)
    loss.backward()
    scale = target.blocks[-1].mlp.fc1.cross_modal_scale
    assert scale.grad is not None and scale.grad.abs().item() > 0
    optim.step()
    assert scale.item() != 0.0
    target.eval()
    with torch.no_grad():
        before = target(x)
        target = merge_pathways(target)
        fresh = create().eval()
        fresh.load_state_dict(target.state_dict(), strict=True)
        assert_close(fresh(x), before, rtol=1e-4, atol=1e-5)


def test_scale_report_table():
    target = timm_vit(seed=0)
    attach_pathway(target, timm_vit(seed=1), layers=OFFICIAL_LAYER_NAMES)
    attach_pathway(target, timm_vit(seed=2), layers=['mlp.fc1'])
    set_scales(target, lambda n: 0.01 * int(n.split('.')[1]) + (0.5 if n.endswith('_1') else 0))
    records = collect_scales(target)
    assert len(records) == 4 * 4 + 4
    rec = next(r for r in records if r.block == 3 and r.layer == 'fc1' and r.aux == 1)
    assert rec.value == pytest.approx(0.53)
    table = format_scale_table(records)
    lines = table.splitlines()
    assert lines[0].split() == ['block', 'qkv[0]', 'qkv[1]', 'proj[0]', 'proj[1]', 'fc1[0]',
                                'fc1[1]', 'fc2[0]', 'fc2[1]']
    assert lines[2].split()[0] == '0' and lines[-1].split()[6] == '+0.5300'
    assert lines[-1].split()[2] == '-'
    # the same report from a state dict alone
    assert [r.value for r in collect_scales(target.state_dict())] == [r.value for r in records]


# ---------------------------------------------------------------- bad input
def test_depth_mismatch_names_both():
    with pytest.raises(ValueError, match="target 'blocks' has 4 blocks, aux has 2"):
        attach_pathway(timm_vit(), timm_vit(depth=2), layers=OFFICIAL_LAYER_NAMES)


def test_width_mismatch_names_both_keys_and_shapes():
    with pytest.raises(ValueError, match=r'aux blocks\.0\.attn\.qkv\.weight has shape \(144, 48\), '
                                         r'but target blocks\.0\.attn\.qkv\.weight has \(96, 32\)'):
        attach_pathway(timm_vit(), timm_vit(dims=48), layers=OFFICIAL_LAYER_NAMES)


def test_missing_aux_key_is_named():
    aux = timm_vit(seed=1).state_dict()
    del aux['blocks.2.mlp.fc2.weight']
    with pytest.raises(KeyError, match=r"missing key 'blocks\.2\.mlp\.fc2\.weight'"):
        attach_pathway(timm_vit(), aux, layers=OFFICIAL_LAYER_NAMES)


def test_unknown_layer_path_lists_children():
    with pytest.raises(AttributeError, match=r"no submodule 'attn\.qkvv'.*'attn'"):
        attach_pathway(timm_vit(), timm_vit(), layers=['attn.qkvv'])


def test_bad_order_and_non_linear_target():
    with pytest.raises(ValueError, match="order must be one of"):
        attach_pathway(timm_vit(), timm_vit(), layers=OFFICIAL_LAYER_NAMES, order='backwards')
    with pytest.raises(TypeError, match="expected an nn.Linear"):
        attach_pathway(timm_vit(), timm_vit(), layers=['norm1'])


def test_timm_layer_table_matches_official_names():
    assert tuple(TIMM_LAYERS.values()) == OFFICIAL_LAYER_NAMES
