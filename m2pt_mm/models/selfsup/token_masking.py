"""Which tokens masked pretraining hides: one home for MAE pretraining (``M2PTMAEViT``) and
OmniVec's masked-reconstruction head."""
from dataclasses import dataclass
from typing import Tuple

import torch
from torch import Tensor

from ..utils import TokenGrid

MASK_MODES = ('random', 'tube')
MASK_COUNTS = ('keep', 'mask')


@dataclass(frozen=True)
class TokenMasking:
    """A masking rule.

    Attributes:
        ratio: Fraction of the tokens masked.
        mode: ``'random'`` (every token independently, MAE) or ``'tube'`` (one spatial mask
            shared by all time steps of a ``(t, h, w)`` grid, VideoMAE).
        count: How the count rounds: ``'keep'`` (``int(n·(1 - r))`` visible, MAE) or ``'mask'``
            (``int(r·n)`` masked, VideoMAE / Point-MAE).
    """

    ratio: float
    mode: str = 'random'
    count: str = 'keep'

    def num_visible(self, num_tokens: int) -> int:
        """Visible tokens among ``num_tokens`` (per time step for tube masking)."""
        if self.count == 'mask':
            return num_tokens - int(self.ratio * num_tokens)
        return int(num_tokens * (1 - self.ratio))

    def draw(self, batch: int, grid: TokenGrid, num_tokens: int,
             device: torch.device) -> Tuple[Tensor, Tensor, Tensor]:
        """Draw a mask: ``(mask [B, L]`` (1 = masked), ``ids_keep [B, V]``, ``ids_restore [B, L])``.

        ``ids_keep`` lists the visible tokens in their original order; ``ids_restore`` puts the
        sequence ``visible + masked`` back into token order (MAE's convention).

        Raises:
            ValueError: the ratio leaves no visible token.
        """
        if self.mode == 'tube':
            steps, height, width = grid
            spatial = height * width
            keep = self.num_visible(spatial)
            noise = torch.rand(batch, spatial, device=device)
            spatial_mask = torch.ones(batch, spatial, device=device)
            spatial_mask.scatter_(1, noise.argsort(dim=1)[:, :keep], 0.)
            mask = spatial_mask.repeat(1, steps)  # tokens are time-major: t · (h·w) + s
            visible = keep * steps
        else:
            keep = self.num_visible(num_tokens)
            noise = torch.rand(batch, num_tokens, device=device)
            mask = torch.ones(batch, num_tokens, device=device)
            mask.scatter_(1, noise.argsort(dim=1)[:, :keep], 0.)
            visible = keep
        if keep < 1:
            raise ValueError(f'mask_ratio {self.ratio} leaves no visible token of '
                             f'{num_tokens} (grid {grid!r})')
        ids_shuffle = mask.argsort(dim=1, stable=True)  # visible first, each group in order
        ids_restore = ids_shuffle.argsort(dim=1)
        return mask, ids_shuffle[:, :visible], ids_restore
