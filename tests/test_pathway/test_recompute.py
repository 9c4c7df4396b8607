import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from m2pt_mm.pathway import CrossModalReparamLinear
from m2pt_mm.pathway.recompute import merged_linear_recompute

IN, OUT = 5, 4


def make_inputs(num_aux, bias, dtype, frozen=(), batch=(2, 3)):
    """x, W, b, [W′ₖ], [λₖ] as leaf tensors; names in ``frozen`` do not require grad."""
    x = torch.randn(*batch, IN, dtype=dtype)
    weight = torch.randn(OUT, IN, dtype=dtype)
    b = torch.randn(OUT, dtype=dtype) if bias else None
    aux = [torch.randn(OUT, IN, dtype=dtype) for _ in range(num_aux)]
    scales = [torch.tensor([0.3 + 0.4 * k], dtype=dtype) for k in range(num_aux)]
    named = dict(x=[x], weight=[weight], bias=[b] if bias else [], aux=aux, scale=scales)
    for name, tensors in named.items():
        for t in tensors:
            t.requires_grad_(name not in frozen)
    return x, weight, b, aux, scales


def plain_form(x, weight, bias, aux, scales):
    merged = weight
    for w, s in zip(aux, scales):
        merged = merged + s * w
    return F.linear(x, merged, bias)


def leaves(x, weight, bias, aux, scales):
    return [t for t in [x, weight, bias, *aux, *scales] if t is not None]


FROZEN_CASES = [(), ('x', ), ('weight', 'bias'), ('aux', ), ('weight', 'bias', 'aux'),
                ('x', 'weight', 'bias', 'aux')]


@pytest.mark.parametrize('num_aux', [1, 2])
@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('frozen', FROZEN_CASES)
def test_gradcheck(num_aux, bias, frozen):
    x, weight, b, aux, scales = make_inputs(num_aux, bias, torch.double, frozen)

    def fn(x, weight, b, *aux_and_scales):
        return merged_linear_recompute(x, weight, b, aux_and_scales[:num_aux],
                                       aux_and_scales[num_aux:])

    assert torch.autograd.gradcheck(fn, (x, weight, b, *aux, *scales))


@pytest.mark.parametrize('num_aux', [1, 2])
@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('frozen', FROZEN_CASES)
def test_matches_plain_autograd(num_aux, bias, frozen):
    inputs = make_inputs(num_aux, bias, torch.float32, frozen, batch=(3, 2, 7))
    x, weight, b, aux, scales = inputs
    clones = [t.detach().clone().requires_grad_(t.requires_grad) for t in leaves(*inputs)]
    it = iter(clones)
    x2, w2 = next(it), next(it)
    b2 = next(it) if bias else None
    aux2 = [next(it) for _ in range(num_aux)]
    scales2 = [next(it) for _ in range(num_aux)]

    out = merged_linear_recompute(x, weight, b, aux, scales)
    expected = plain_form(x2, w2, b2, aux2, scales2)
    assert_close(out, expected)
    grad = torch.randn_like(out)
    out.backward(grad)
    expected.backward(grad)
    for got, ref in zip(leaves(*inputs), clones):
        if ref.requires_grad:
            assert_close(got.grad, ref.grad)
        else:
            assert got.grad is None


def test_no_grad_needed_anywhere_gives_plain_output():
    x, weight, b, aux, scales = make_inputs(1, True, torch.float32,
                                            ('x', 'weight', 'bias', 'aux', 'scale'))
    out = merged_linear_recompute(x, weight, b, aux, scales)
    assert not out.requires_grad
    assert_close(out, plain_form(x, weight, b, aux, scales))


def test_matches_reparam_layer_in_a_chain():
    """Two stacked layers: gradients reach W, W′, λ and bias of both, as the module computes
    them."""
    torch.manual_seed(0)
    layers = []
    for _ in range(2):
        layer = CrossModalReparamLinear(IN, IN)
        layer.add_aux(torch.randn(IN, IN), scale_init=0.2)
        layer.add_aux(torch.randn(IN, IN), scale_init=-0.1)
        layers.append(layer)
    x = torch.randn(4, IN)

    def run(recompute):
        for layer in layers:
            layer.zero_grad(set_to_none=True)
        h = x
        for layer in layers:
            if recompute:
                h = merged_linear_recompute(h, layer.weight, layer.bias,
                                            [layer.aux_weight_at(k) for k in range(2)],
                                            [layer.scale_at(k) for k in range(2)])
            else:
                h = layer(h)
            h = torch.tanh(h)
        h.square().sum().backward()
        return h.detach(), [p.grad.clone() for layer in layers for p in layer.parameters()]

    out_ref, grads_ref = run(False)
    out, grads = run(True)
    assert_close(out, out_ref)
    for got, ref in zip(grads, grads_ref):
        assert_close(got, ref)


def test_does_not_save_the_merged_weight():
    """The autograd graph holds only the inputs, not a new weight-sized tensor."""
    x, weight, b, aux, scales = make_inputs(2, True, torch.float32)
    out = merged_linear_recompute(x, weight, b, aux, scales)
    saved = out.grad_fn.saved_tensors
    inputs = {t.data_ptr() for t in (x, weight, *aux, *scales)}
    assert {t.data_ptr() for t in saved} <= inputs


def test_bad_shapes_name_what_was_expected():
    x, weight, b, aux, scales = make_inputs(1, True, torch.float32)
    with pytest.raises(ValueError, match=r'aux_weights\[0\] has shape \(5, 4\), expected \(4, 5\)'):
        merged_linear_recompute(x, weight, b, [aux[0].t()], scales)
    with pytest.raises(ValueError, match='one scale per auxiliary weight'):
        merged_linear_recompute(x, weight, b, aux, [])
    with pytest.raises(ValueError,
                       match=r'scales\[0\] has shape \(2,\), expected a single element'):
        merged_linear_recompute(x, weight, b, aux, [torch.ones(2)])


def test_autocast_bfloat16_matches_plain_autograd():
    """Under autocast the matmuls run in bfloat16 and every gradient keeps its input's dtype."""
    inputs = make_inputs(1, True, torch.float32, batch=(2, 8))
    clones = [t.detach().clone().requires_grad_() for t in leaves(*inputs)]
    x2, w2, b2, a2, s2 = clones
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = merged_linear_recompute(*inputs)
        expected = plain_form(x2, w2, b2, [a2], [s2])
    assert out.dtype == expected.dtype == torch.bfloat16
    out.float().sum().backward()
    expected.float().sum().backward()
    for got, ref in zip(leaves(*inputs), clones):
        assert got.grad.dtype == torch.float32
        assert_close(got.grad, ref.grad, rtol=2e-2, atol=2e-2)
