"""OmniVec's per-modality projection into the trunk width, conditioned on the meta vector."""
from typing import Optional, Tuple

import torch
from mmpretrain.models.utils import build_norm_layer
from torch import Tensor, nn


class FiLMProjection(nn.Module):
    """``LN((1 + γ(m)) ⊙ (W x + b) + β(m))``: the paper's ``W_ip`` followed by LayerNorm, with
    the meta vector ``m`` modulating each output channel (FiLM).

    Why FiLM: conditioning must let one projection adapt to the input's kind and size (the
    paper's "meta tokens make the projection adaptable"), and for a fixed input shape ``m`` is a
    constant, so ``γ`` and ``β`` are constants and the whole projection folds into one linear
    layer ``W' = diag(1 + γ) W``, ``b' = (1 + γ) ⊙ b + β``. That is what lets a depth-0 encoder +
    projection export into a plain ViT tokenizer (``export_single_modality``); concatenating the
    meta vector to every token would fold too, but a meta *token* in the sequence would not.

    Extra tokens (the trunk's class token) join the projected tokens before the LayerNorm, so the
    norm acts on every token that enters the trunk, as ``pre_norm`` does in a ViT.

    Args:
        in_dims: Encoder width.
        out_dims: Trunk width.
        meta_dims: Width of the meta vector.
        norm_cfg: The trunk's norm config (the exported ViT's ``pre_norm`` is built from it).
    """

    def __init__(self, in_dims: int, out_dims: int, meta_dims: int,
                 norm_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.in_dims, self.out_dims = in_dims, out_dims
        self.linear = nn.Linear(in_dims, out_dims)
        self.film = nn.Linear(meta_dims, 2 * out_dims)
        # small modulation at the start: close to a plain projection, yet meta-dependent
        nn.init.normal_(self.film.weight, std=.02)
        nn.init.zeros_(self.film.bias)
        self.norm = build_norm_layer(norm_cfg or dict(type='LN', eps=1e-6), out_dims)

    def modulation(self, meta: Tensor) -> Tuple[Tensor, Tensor]:
        """``(1 + γ, β)``, each ``[out_dims]``, for the meta vector ``meta``."""
        gamma, beta = self.film(meta).chunk(2, dim=-1)
        return 1 + gamma, beta

    def forward(self, x: Tensor, meta: Tensor, extra_tokens: Optional[Tensor] = None) -> Tensor:
        """``x [B, N, in_dims]`` → ``[B, (E +) N, out_dims]``.

        Args:
            x: Encoder tokens.
            meta: The group's meta vector ``[meta_dims]``.
            extra_tokens: ``[1, E, out_dims]`` tokens put in front before the norm (class token).
        """
        if x.dim() != 3 or x.shape[-1] != self.in_dims:
            raise ValueError(f'the projection expects encoder tokens [B, N, {self.in_dims}], got '
                             f'{tuple(x.shape)}')
        scale, shift = self.modulation(meta)
        x = self.linear(x) * scale + shift
        if extra_tokens is not None:
            x = torch.cat((extra_tokens.expand(x.shape[0], -1, -1), x), dim=1)
        return self.norm(x)
