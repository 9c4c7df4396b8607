"""A memory-lean autograd form of the Cross-Modal Re-parameterization linear (torch only).

``y = x (W + Σₖ λₖ W′ₖ)ᵀ + b``. Plain autograd keeps the merged weight ``W + Σ λ W′`` of every layer
alive from forward to backward (``F.linear`` saves it to compute ``dx``): one extra weight-sized
tensor per layer. :func:`merged_linear_recompute` saves only the tensors that already exist
(``x``, ``W``, ``W′ₖ``, ``λₖ``) and builds the merged weight again in backward, when ``dx``
needs it. That trades one ``W + Σ λ W′`` pass for a weight-sized tensor per layer.

Gradients, with ``G = g_flatᵀ x_flat`` the gradient of the merged weight:
    dx = g (W + Σ λ W′),  dW = G,  dW′ₖ = λₖ G,  dλₖ = Σ G ⊙ W′ₖ,  db = Σ g.
Each is computed only when its input needs it.
"""
from typing import Any, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .merge import merge_reparam


class MergedLinearRecompute(torch.autograd.Function):
    """``F.linear(x, W + Σₖ λₖ W′ₖ, b)`` that recomputes the merged weight in backward.

    The inputs after ``bias`` are the ``K`` auxiliary weights followed by their ``K`` scales, so
    that autograd sees each one as its own input. Use :func:`merged_linear_recompute` rather than
    ``apply``.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Optional[Tensor],
                *aux_and_scales: Tensor) -> Tensor:
        num_aux = len(aux_and_scales) // 2
        aux_weights, scales = aux_and_scales[:num_aux], aux_and_scales[num_aux:]
        out = F.linear(x, merge_reparam(weight, aux_weights, scales), bias)
        ctx.num_aux = num_aux
        ctx.has_bias = bias is not None
        ctx.save_for_backward(x, weight, *aux_weights, *scales)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Tuple[Optional[Tensor], ...]:
        x, weight, *rest = ctx.saved_tensors
        num_aux = ctx.num_aux
        aux_weights, scales = rest[:num_aux], rest[num_aux:]
        needs = ctx.needs_input_grad
        needs_x, needs_weight, needs_bias = needs[0], needs[1], needs[2]
        needs_aux, needs_scale = needs[3:3 + num_aux], needs[3 + num_aux:]

        g_flat = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = grad_weight = grad_bias = None
        grad_aux: List[Optional[Tensor]] = [None] * num_aux
        grad_scale: List[Optional[Tensor]] = [None] * num_aux

        if needs_x:
            merged = merge_reparam(weight, aux_weights, scales)
            # under autocast the forward matmul ran in the autocast dtype and so does grad_out
            grad_x = grad_out.matmul(merged.to(grad_out.dtype)).to(x.dtype)
            del merged
        if needs_weight or any(needs_aux) or any(needs_scale):
            x_flat = x.reshape(-1, x.shape[-1])
            grad_merged = g_flat.t().matmul(x_flat.to(g_flat.dtype)).to(weight.dtype)
            for k in range(num_aux):
                if needs_aux[k]:
                    grad_aux[k] = (grad_merged * scales[k]).to(aux_weights[k].dtype)
                if needs_scale[k]:
                    # a dot product is one pass with no weight-sized temporary
                    dot = torch.dot(grad_merged.reshape(-1),
                                    aux_weights[k].reshape(-1).to(grad_merged.dtype))
                    grad_scale[k] = dot.reshape(scales[k].shape).to(scales[k].dtype)
            if needs_weight:
                grad_weight = grad_merged
        if needs_bias and ctx.has_bias:
            grad_bias = g_flat.sum(0)
        return (grad_x, grad_weight, grad_bias, *grad_aux, *grad_scale)


def merged_linear_recompute(x: Tensor, weight: Tensor, bias: Optional[Tensor],
                            aux_weights: Sequence[Tensor], scales: Sequence[Tensor]) -> Tensor:
    """``F.linear(x, W + Σₖ λₖ W′ₖ, b)`` without keeping the merged weight for backward.

    Args:
        x: Input of shape ``(..., in_features)``.
        weight: Target weight ``W``, shape ``(out_features, in_features)``.
        bias: Bias of shape ``(out_features,)``, or None.
        aux_weights: The ``W′ₖ``, each shaped like ``weight``.
        scales: The ``λₖ``, one single-element tensor (e.g. shape ``(1,)``) per auxiliary weight.

    Returns:
        The output, shape ``(..., out_features)``; gradients flow to every input that needs one.
    """
    aux_weights, scales = list(aux_weights), list(scales)
    if len(aux_weights) != len(scales):
        raise ValueError(f'expected one scale per auxiliary weight, got {len(aux_weights)} '
                         f'auxiliary weights and {len(scales)} scales')
    shape = tuple(weight.shape)
    for k, aux in enumerate(aux_weights):
        if tuple(aux.shape) != shape:
            raise ValueError(f'aux_weights[{k}] has shape {tuple(aux.shape)}, expected {shape} '
                             '(the shape of weight)')
    for k, scale in enumerate(scales):
        if scale.numel() != 1:
            raise ValueError(f'scales[{k}] has shape {tuple(scale.shape)}, expected a single '
                             'element (e.g. shape (1,))')
    if bias is not None and tuple(bias.shape) != shape[:1]:
        raise ValueError(f'bias has shape {tuple(bias.shape)}, expected {shape[:1]}')
    return MergedLinearRecompute.apply(x, weight, bias, *aux_weights, *scales)
