"""OmniVec's vectorizer: a token sequence of any length → one d-dimensional Omni embedding."""
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
    of them into one Omni space.

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

    def forward(self, tokens: Tensor) -> Tensor:
        """Patch tokens (no class token) ``[B, N, D]`` → ``[B, out_dims]``."""
        if tokens.dim() != 3 or tokens.shape[-1] != self.in_dims or tokens.shape[1] < 1:
            raise ValueError(f'the vectorizer expects tokens [B, N >= 1, {self.in_dims}], got '
                             f'{tuple(tokens.shape)}')
        pooled = F.adaptive_avg_pool1d(tokens.transpose(1, 2), self.num_tokens)  # [B, D, L]
        return self.projection(pooled.transpose(1, 2).flatten(1))
