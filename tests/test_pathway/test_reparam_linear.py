import math

import pytest
import torch
from torch.testing import assert_close

from m2pt_mm.pathway import CrossModalReparamLinear


def make_layer(num_aux=1, bias=True, reparam_bias=False, scale=0.3):
    torch.manual_seed(0)
    layer = CrossModalReparamLinear(6, 5, bias=bias)
    for k in range(num_aux):
        layer.add_aux(torch.randn(5, 6), torch.randn(5) if reparam_bias else None,
                      scale_init=scale * (k + 1), reparam_bias=reparam_bias)
    return layer


def test_official_parameter_names():
    layer = make_layer(num_aux=2, reparam_bias=True)
    assert list(layer.state_dict()) == [
        'weight', 'bias', 'aux_weight', 'cross_modal_scale', 'aux_bias', 'aux_weight_1',
        'cross_modal_scale_1', 'aux_bias_1'
    ]
    assert layer.cross_modal_scale.shape == (1, )


def test_default_scale_is_zero_and_layer_equals_target():
    linear = torch.nn.Linear(6, 5)
    layer = CrossModalReparamLinear.from_linear(linear)
    layer.add_aux(torch.randn(5, 6))
    assert layer.cross_modal_scale.item() == 0.0
    x = torch.randn(3, 6)
    assert_close(layer(x), linear(x))


@pytest.mark.parametrize('num_aux', [1, 2])
def test_forward_equals_two_branch_form(num_aux):
    layer = make_layer(num_aux)
    x = torch.randn(4, 7, 6)
    expected = x @ layer.weight.T + layer.bias
    for k in range(num_aux):
        expected = expected + layer.scale_at(k) * (x @ layer.aux_weight_at(k).T)
    assert_close(layer(x), expected)


def test_bias_reparameterisation():
    layer = make_layer(num_aux=2, reparam_bias=True)
    x = torch.randn(3, 6)
    weight = layer.weight + 0.3 * layer.aux_weight + 0.6 * layer.aux_weight_1
    bias = layer.bias + 0.3 * layer.aux_bias + 0.6 * layer.aux_bias_1
    assert_close(layer(x), x @ weight.T + bias)


def test_linear_without_bias():
    layer = make_layer(bias=False)
    x = torch.randn(3, 6)
    assert_close(layer(x), x @ (layer.weight + 0.3 * layer.aux_weight).T)
    layer.switch_to_deploy()
    assert layer.bias is None and list(layer.state_dict()) == ['weight']


@pytest.mark.parametrize('num_aux,reparam_bias', [(1, False), (2, True)])
def test_switch_to_deploy_is_exact_and_idempotent(num_aux, reparam_bias):
    layer = make_layer(num_aux, reparam_bias=reparam_bias)
    x = torch.randn(3, 6)
    before = layer(x).detach()
    layer.switch_to_deploy()
    assert list(layer.state_dict()) == ['weight', 'bias'] and layer.deploy
    assert_close(layer(x), before)
    weight = layer.weight.detach().clone()
    layer.switch_to_deploy()
    assert_close(layer.weight.detach(), weight)
    with pytest.raises(RuntimeError, match='deployed'):
        layer.add_aux(torch.randn(5, 6))


def test_deploy_constructor_builds_plain_linear():
    layer = CrossModalReparamLinear(6, 5, deploy=True)
    assert list(layer.state_dict()) == ['weight', 'bias']
    merged = make_layer()
    merged.switch_to_deploy()
    layer.load_state_dict(merged.state_dict(), strict=True)
    x = torch.randn(2, 6)
    assert_close(layer(x), merged(x))


def test_fuse_gives_plain_nn_linear_and_leaves_the_layer():
    layer = make_layer(2, reparam_bias=True)
    x = torch.randn(2, 6)
    linear = layer.fuse()
    assert type(linear) is torch.nn.Linear
    assert layer.num_aux == 2 and not layer.deploy
    with torch.no_grad():
        assert torch.equal(linear(x), layer.eval()(x))  # the same merge: bit-identical
    assert linear.weight.requires_grad


def test_gradients_reach_w_aux_and_scale():
    layer = make_layer()
    layer(torch.randn(4, 6)).pow(2).sum().backward()
    for name in ('weight', 'bias', 'aux_weight', 'cross_modal_scale'):
        grad = getattr(layer, name).grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_frozen_parts_get_no_gradient():
    layer = CrossModalReparamLinear(6, 5, weight_trainable=False)
    layer.add_aux(torch.randn(5, 6), scale_init=0.1, aux_trainable=False)
    layer(torch.randn(4, 6)).sum().backward()
    assert layer.weight.grad is None and layer.bias.grad is None and layer.aux_weight.grad is None
    assert layer.cross_modal_scale.grad is not None
    layer2 = CrossModalReparamLinear(6, 5)
    layer2.add_aux(torch.randn(5, 6), scale_trainable=False)
    layer2(torch.randn(4, 6)).sum().backward()
    assert layer2.cross_modal_scale.grad is None and layer2.aux_weight.grad is not None


@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
def test_non_finite_scale_init_is_refused(bad):
    layer = CrossModalReparamLinear(6, 5)
    with pytest.raises(ValueError, match='finite'):
        layer.add_aux(torch.randn(5, 6), scale_init=bad)


def test_aux_shape_mismatch_names_both_shapes():
    layer = CrossModalReparamLinear(6, 5)
    with pytest.raises(ValueError, match=r'\(5, 7\).*\(5, 6\)'):
        layer.add_aux(torch.randn(5, 7))


# ---------------------------------------------------------------- eval-mode cache
def cached_forward(layer, x):
    with torch.no_grad():
        return layer(x)


def fresh_expected(layer, x):
    with torch.no_grad():
        weight, bias = layer.merged_weight_and_bias()
        return x @ weight.T + bias


def test_eval_cache_is_used_and_reused():
    layer = make_layer().eval()
    x = torch.randn(3, 6)
    cached_forward(layer, x)
    cache = layer._cache
    assert cache is not None
    cached_forward(layer, x)
    assert layer._cache is cache  # same tensors: not recomputed


def test_eval_cache_dropped_after_optimiser_step():
    layer = make_layer()
    optim = torch.optim.AdamW(layer.parameters(), lr=0.1)
    x = torch.randn(3, 6)
    layer.eval()
    stale = cached_forward(layer, x)
    layer.train()
    assert layer._cache is None
    layer(x).sum().backward()
    optim.step()
    layer.eval()
    out = cached_forward(layer, x)
    assert not torch.allclose(out, stale)
    assert_close(out, fresh_expected(layer, x))


@pytest.mark.parametrize('change', ['scale_inplace', 'aux_inplace', 'weight_inplace',
                                    'bias_inplace', 'load_state_dict', 'replace_data',
                                    'step_in_eval'])
def test_stale_cache_is_never_served(change):
    layer = make_layer().eval()
    x = torch.randn(3, 6)
    stale = cached_forward(layer, x)
    with torch.no_grad():
        if change == 'scale_inplace':
            layer.cross_modal_scale.add_(1.0)
        elif change == 'aux_inplace':
            layer.aux_weight.mul_(2.0)
        elif change == 'weight_inplace':
            layer.weight.zero_()
        elif change == 'bias_inplace':
            layer.bias.add_(1.0)
        elif change == 'load_state_dict':
            state = {k: v + 1 for k, v in layer.state_dict().items()}
            layer.load_state_dict(state)
        elif change == 'replace_data':
            layer.aux_weight.data = layer.aux_weight.data * 3
    if change == 'step_in_eval':
        # an optimiser step while the module stays in eval mode (e.g. fix-setting probes)
        optim = torch.optim.SGD(layer.parameters(), lr=1.0)
        layer(x).sum().backward()
        optim.step()
    out = cached_forward(layer, x)
    assert not torch.allclose(out, stale)
    assert_close(out, fresh_expected(layer, x))


def test_no_cache_when_gradients_are_needed():
    layer = make_layer().eval()
    out = layer(torch.randn(3, 6))
    assert out.requires_grad and layer._cache is None


def test_cache_dropped_on_switch_to_deploy():
    layer = make_layer().eval()
    x = torch.randn(3, 6)
    before = cached_forward(layer, x)
    layer.switch_to_deploy()
    assert layer._cache is None
    assert_close(cached_forward(layer, x), before)


@pytest.mark.parametrize('num_aux,reparam_bias', [(1, False), (2, True)])
def test_recompute_flag_matches_default_path(num_aux, reparam_bias):
    default = make_layer(num_aux, reparam_bias=reparam_bias)
    lean = make_layer(num_aux, reparam_bias=reparam_bias)
    lean.recompute = True
    x1 = torch.randn(3, 4, 6, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    out1, out2 = default(x1), lean(x2)
    assert_close(out2, out1)
    grad = torch.randn_like(out1)
    out1.backward(grad)
    out2.backward(grad)
    assert_close(x2.grad, x1.grad)
    for (name, p1), (_, p2) in zip(default.named_parameters(), lean.named_parameters()):
        assert_close(p2.grad, p1.grad, msg=name)
