"""OmniVec's vectorizer: a token sequence of any length → one d-dimensional Omni embedding."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Vectorizer(nn.Module):
    """``[B, N, D]`` trunk tokens → ``[B, out_dims]`` (the paper's concatenation + linear).

    The paper concatenates the output patches and applies one linear layer, which needs a fixed
    number of patches. Here every sequence is brought to ``num_tokens`` (``L``) tokens by
    ``adaptive_avg_pool1d`` over the token axis, in token order, then flattened to ``L·D`` and
    projected. Pooling, not padding: the token count differs between modalities and within one
    (input size, text length, masking); padding would make a short input's embedding mostly
    zeros and cut a long one, while pooling keeps every token's contribution for any ``N``
    (``N < L`` repeats tokens). The same ``L`` for every modality lets one linear layer map all
    of them into one Omni space. With a padding mask (text), each sequence is pooled over its
    real tokens only, with the same bins as ``adaptive_avg_pool1d`` over those tokens, so a text's
    embedding does not depend on how much ``[PAD]`` follows it.

    Args:
        in_dims: Trunk width ``D``.
        out_dims: Omni embedding width ``d``.
        num_tokens: ``L``.
    """

    def __init__(self, in_dims: int, out_dims: int, num_tokens: int = 8) -> None:
        super().__init__()
        if num_tokens < 1:
            raise ValueError(f'num_tokens must be >= 1, got {num_tokens}')
        self.in_dims, self.out_dims, self.num_tokens = in_dims, out_dims, num_tokens
        self.projection = nn.Linear(num_tokens * in_dims, out_dims)

    def forward(self, tokens: Tensor, padding_mask: Optional[Tensor] = None) -> Tensor:
        """Patch tokens (no class token) ``[B, N, D]`` → ``[B, out_dims]``.

        Args:
            tokens: The trunk's patch tokens.
            padding_mask: ``[B, N]`` bool, True at padding tokens, left out of the pooling.
        """
        if tokens.dim() != 3 or tokens.shape[-1] != self.in_dims or tokens.shape[1] < 1:
            raise ValueError(f'the vectorizer expects tokens [B, N >= 1, {self.in_dims}], got '
                             f'{tuple(tokens.shape)}')
        if padding_mask is None:
            pooled = F.adaptive_avg_pool1d(tokens.transpose(1, 2), self.num_tokens)  # [B, D, L]
            return self.projection(pooled.transpose(1, 2).flatten(1))
        weights = self._pooling_weights(padding_mask.to(tokens.device))
        return self.projection((weights.to(tokens.dtype) @ tokens).flatten(1))

    def _pooling_weights(self, padding_mask: Tensor) -> Tensor:
        """``[B, L, N]``: bin ``i`` of a sequence of ``n`` real tokens averages its real tokens
        of rank ``floor(i·n/L) .. ceil((i+1)·n/L) - 1`` (``adaptive_avg_pool1d``'s bins)."""
        real = ~padding_mask
        n = real.sum(dim=1, keepdim=True)  # [B, 1]
        if bool((n == 0).any()):
            raise ValueError('the vectorizer got a sequence with no real tokens (all padding)')
        rank = real.cumsum(dim=1) - 1  # [B, N], the rank of each real token
        bins = torch.arange(self.num_tokens, device=real.device)[None, :, None]  # [1, L, 1]
        start = torch.div(bins * n[:, :, None], self.num_tokens, rounding_mode='floor')
        end = -torch.div(-(bins + 1) * n[:, :, None], self.num_tokens, rounding_mode='floor')
        inside = real[:, None] & (rank[:, None] >= start) & (rank[:, None] < end)  # [B, L, N]
        return inside / (end - start)
