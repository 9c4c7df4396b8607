"""The Cross-Modal Re-parameterization linear layer (M2PT, Zhang et al., CVPR 2024, Eq. 9).

``y = x (W + Σₖ λₖ W′ₖ)ᵀ + b`` where ``W`` is the target weight, ``W′ₖ`` the counterpart weight of
auxiliary model ``k`` and ``λₖ`` its learnable Cross-Modal Scale. After training the sum is merged
into a plain ``nn.Linear``, so inference costs what a plain layer costs.

Every merge of the layer — forward, eval-mode cache,
:meth:`~CrossModalReparamLinear.switch_to_deploy` and :meth:`~CrossModalReparamLinear.fuse` — is
:func:`.merge.merge_reparam` (its docstring has the dtype policy).

Parameter names follow the official implementation so its checkpoints map 1:1: the first auxiliary
model uses ``aux_weight`` / ``cross_modal_scale`` (/ ``aux_bias``), further ones add the suffix
``_{k}`` (``aux_weight_1``, ``cross_modal_scale_1``, ...).
"""
import math
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .merge import aux_param_name, merge_reparam
from .recompute import merged_linear_recompute


class CrossModalReparamLinear(nn.Linear):
    """A linear layer whose weight is ``W + Σₖ λₖ W′ₖ``.

    It is an ``nn.Linear`` (so code that looks for linears, e.g. weight initialisers, still finds
    it); auxiliary branches are added with :meth:`add_aux`. In eval mode, when no gradient is
    needed, the merged weight is computed once and reused until any of ``W``, ``W′``, ``λ`` (or the
    biases) changes, the module goes back to ``train()``, or it is switched to deploy.

    Args:
        in_features: Input width.
        out_features: Output width.
        bias: Whether the target linear has a bias.
        weight_trainable: Whether the target weight ``W`` (and bias) train.
        recompute: In training, rebuild ``W + Σ λ W′`` in backward instead of keeping it from
            forward (:mod:`.recompute`): one weight-sized tensor less per layer (≈340 MB at ViT-B
            fp32) for one more merge pass. Off by default: docs/benchmarks.md has both measured.
        deploy: Build the merged form directly: a plain linear with no auxiliary branch.
        device: Device of the parameters.
        dtype: Dtype of the parameters.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 bias: bool = True,
                 weight_trainable: bool = True,
                 recompute: bool = False,
                 deploy: bool = False,
                 device: Optional[torch.device] = None,
                 dtype: Optional[torch.dtype] = None) -> None:
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self.deploy = deploy
        self.recompute = recompute
        self.num_aux = 0
        self.has_aux_bias: List[bool] = []
        self._cache_key: Optional[Tuple] = None
        self._cache: Optional[Tuple[Tensor, Optional[Tensor]]] = None
        self._cache_pins: List[Tensor] = []
        self.set_weight_trainable(weight_trainable)

    @classmethod
    def from_linear(cls, linear: nn.Linear,
                    weight_trainable: bool = True) -> 'CrossModalReparamLinear':
        """Wrap an existing ``nn.Linear``, taking over its weight and bias tensors."""
        layer = cls(linear.in_features, linear.out_features, bias=linear.bias is not None,
                    weight_trainable=weight_trainable, device=linear.weight.device,
                    dtype=linear.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(linear.weight)
            if linear.bias is not None:
                layer.bias.copy_(linear.bias)
        return layer

    def set_weight_trainable(self, trainable: bool) -> None:
        """Freeze or unfreeze the target weight and bias."""
        self.weight.requires_grad_(trainable)
        if self.bias is not None:
            self.bias.requires_grad_(trainable)

    def add_aux(self,
                aux_weight: Optional[Tensor] = None,
                aux_bias: Optional[Tensor] = None,
                scale_init: float = 0.,
                scale_trainable: bool = True,
                aux_trainable: bool = True,
                reparam_bias: bool = False) -> int:
        """Add one auxiliary branch ``λₖ W′ₖ`` and return its index ``k``.

        Args:
            aux_weight: ``W′``, shape ``(out_features, in_features)``; zeros when None (to be
                filled later, e.g. by a checkpoint load).
            aux_bias: ``b′`` when ``reparam_bias``; zeros when None.
            scale_init: Initial ``λ`` (the paper: 0, so training starts from the target model).
            scale_trainable: Whether ``λ`` trains.
            aux_trainable: Whether ``W′`` (and ``b′``) train.
            reparam_bias: Also re-parameterise the bias: ``b + λ b′``.
        """
        if self.deploy:
            raise RuntimeError('cannot add an auxiliary branch to a deployed (merged) layer')
        if not math.isfinite(scale_init):
            raise ValueError(f'scale_init must be a finite number, got {scale_init}')
        if reparam_bias and self.bias is None:
            raise ValueError('reparam_bias=True needs a target linear with a bias; this layer '
                             'has none')
        shape = (self.out_features, self.in_features)
        if aux_weight is not None and tuple(aux_weight.shape) != shape:
            raise ValueError(f'aux weight has shape {tuple(aux_weight.shape)}, expected {shape} '
                             '(out_features, in_features) of the target linear')
        if aux_bias is not None and tuple(aux_bias.shape) != (self.out_features, ):
            raise ValueError(f'aux bias has shape {tuple(aux_bias.shape)}, '
                             f'expected ({self.out_features},)')
        k = self.num_aux
        like = dict(device=self.weight.device, dtype=self.weight.dtype)
        weight = (torch.zeros(shape, **like) if aux_weight is None
                  else aux_weight.detach().to(**like).clone())
        self.register_parameter(aux_param_name('aux_weight', k),
                                nn.Parameter(weight, requires_grad=aux_trainable))
        self.register_parameter(aux_param_name('cross_modal_scale', k),
                                nn.Parameter(torch.full((1, ), float(scale_init), **like),
                                             requires_grad=scale_trainable))
        if reparam_bias:
            bias = (torch.zeros(self.out_features, **like)
                    if aux_bias is None else aux_bias.detach().to(**like).clone())
            self.register_parameter(aux_param_name('aux_bias', k),
                                    nn.Parameter(bias, requires_grad=aux_trainable))
        self.num_aux += 1
        self.has_aux_bias.append(reparam_bias)
        self._drop_cache()
        return k

    def aux_weight_at(self, k: int) -> Tensor:
        return getattr(self, aux_param_name('aux_weight', k))

    def scale_at(self, k: int) -> Tensor:
        return getattr(self, aux_param_name('cross_modal_scale', k))

    def aux_bias_at(self, k: int) -> Optional[Tensor]:
        return getattr(self, aux_param_name('aux_bias', k)) if self.has_aux_bias[k] else None

    def merged_weight_and_bias(self) -> Tuple[Tensor, Optional[Tensor]]:
        """``(W + Σ λₖ W′ₖ, b + Σ λₖ b′ₖ)`` by :func:`merge_reparam`, differentiable."""
        scales = [self.scale_at(k) for k in range(self.num_aux)]
        weight = merge_reparam(self.weight, [self.aux_weight_at(k) for k in range(self.num_aux)],
                               scales)
        return weight, self.merged_bias()

    def merged_bias(self) -> Optional[Tensor]:
        """``b + Σ λₖ b′ₖ`` over the branches that re-parameterise the bias, differentiable."""
        branches = [k for k in range(self.num_aux) if self.has_aux_bias[k]]
        if self.bias is None or not branches:
            return self.bias
        return merge_reparam(self.bias, [self.aux_bias_at(k) for k in branches],
                             [self.scale_at(k) for k in branches])

    def _sources(self) -> List[Tensor]:
        return [p for p in self.parameters(recurse=False)]

    def _drop_cache(self) -> None:
        self._cache_key, self._cache, self._cache_pins = None, None, []

    def _cached_weight_and_bias(self) -> Tuple[Tensor, Optional[Tensor]]:
        sources = self._sources()
        # Tensor version counters catch in-place updates (optimiser steps, load_state_dict, copy_);
        # the storage pointer catches replaced tensors (`.data = ...`, `.to()`). The pinned
        # tensors keep the old storages alive, so a new tensor can never reuse a cached address.
        key = tuple((p.data_ptr(), p._version, p.dtype, p.device, tuple(p.shape)) for p in sources)
        if self._cache is None or key != self._cache_key:
            with torch.no_grad():
                weight, bias = self.merged_weight_and_bias()
            self._cache = (weight.detach(), None if bias is None else bias.detach())
            self._cache_key = key
            self._cache_pins = [p.detach() for p in sources]
        return self._cache

    def forward(self, x: Tensor) -> Tensor:
        if self.num_aux == 0:
            return F.linear(x, self.weight, self.bias)
        needs_grad = torch.is_grad_enabled() and any(p.requires_grad for p in self._sources())
        if not self.training and not needs_grad:
            weight, bias = self._cached_weight_and_bias()
            return F.linear(x, weight, bias)
        self._drop_cache()
        if self.recompute and torch.is_grad_enabled():
            # the merged bias is small: plain autograd keeps it, the Function rebuilds the weight
            return merged_linear_recompute(x, self.weight, self.merged_bias(),
                                           [self.aux_weight_at(k) for k in range(self.num_aux)],
                                           [self.scale_at(k) for k in range(self.num_aux)])
        weight, bias = self.merged_weight_and_bias()
        return F.linear(x, weight, bias)

    def train(self, mode: bool = True) -> 'CrossModalReparamLinear':
        self._drop_cache()
        return super().train(mode)

    def switch_to_deploy(self) -> None:
        """Merge every auxiliary branch into ``weight``/``bias`` in place (idempotent; the
        mmpretrain RepVGG convention). Afterwards the state dict is that of an ``nn.Linear``."""
        if self.deploy:
            return
        with torch.no_grad():
            weight, bias = self.merged_weight_and_bias()
        trainable = self.weight.requires_grad
        for k in range(self.num_aux):
            for base in ('aux_weight', 'cross_modal_scale', 'aux_bias'):
                name = aux_param_name(base, k)
                if name in self._parameters:
                    delattr(self, name)
        self.weight = nn.Parameter(weight.detach().clone(), requires_grad=trainable)
        if bias is not None:
            self.bias = nn.Parameter(bias.detach().clone(), requires_grad=trainable)
        self.num_aux, self.has_aux_bias = 0, []
        self._drop_cache()
        self.deploy = True

    def fuse(self) -> nn.Linear:
        """A plain ``nn.Linear`` holding the merged weight; this layer is left unchanged.

        timm's ``reparameterize_model`` replaces every child that has a ``fuse()`` by what it
        returns, so a timm model with pathways merges with timm alone.
        """
        with torch.no_grad():
            weight, bias = self.merged_weight_and_bias()
        linear = nn.Linear(self.in_features, self.out_features, bias=bias is not None,
                           device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(weight)
            if bias is not None:
                linear.bias.copy_(bias)
        linear.train(self.training)
        linear.requires_grad_(self.weight.requires_grad)
        return linear

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, num_aux={self.num_aux}, deploy={self.deploy}'
