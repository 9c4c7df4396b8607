"""Video tokenizer: tubelet embedding with VideoMAE's fixed sin-cos position embedding."""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model.weight_init import trunc_normal_
from torch import Tensor, nn

from m2pt_mm.registry import TOKENIZERS

from ..utils import sincos_position_table
from .base import BaseTokenizer, InputSize, MaskDefaults, TokenizerFold, fold_projection


@TOKENIZERS.register_module()
class VideoTokenizer(BaseTokenizer):
    """Cut a clip into ``tubelet_size × patch_size × patch_size`` tubelets and project each to
    ``embed_dims`` (VideoMAE's ``PatchEmbed``: one ``Conv3d`` with kernel = stride).

    16 frames of 224² in 2×16×16 tubelets give ``8 × 14 × 14 = 1568`` tokens, time-major. The
    position embedding belongs to the tokenizer (the backbone then has no ``pos_embed`` table):
    VideoMAE's fixed sin-cos table by default (a buffer, not saved: VideoMAE does not save it
    either), or a learned one (``patch_embed.pos_embed``). Masked pretraining defaults to
    VideoMAE's tube masking of 90 % of the tokens.

    Args:
        embed_dims: Token width.
        in_channels: Channels per frame.
        num_frames: Frames of the expected clip.
        img_size: Frame size ``H`` or ``(H, W)`` of the expected clip.
        patch_size: Spatial side of a tubelet (VideoMAE ViT-B: 16; the M2PT paper text says 14).
        tubelet_size: Frames per tubelet.
        pos_embed: ``'sincos'`` (fixed, VideoMAE's default) or ``'learned'``.
        bias: Whether the projection has a bias.
        init_cfg: Initialisation config.
    """

    POS_EMBEDS = ('sincos', 'learned')
    host_pos_embed = 'none'
    mask_defaults = MaskDefaults(0.9, 'tube', 'mask')

    def __init__(self,
                 embed_dims: int,
                 in_channels: int = 3,
                 num_frames: int = 16,
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: int = 16,
                 tubelet_size: int = 2,
                 pos_embed: str = 'sincos',
                 bias: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if pos_embed not in self.POS_EMBEDS:
            raise ValueError(f'pos_embed must be one of {self.POS_EMBEDS}, got {pos_embed!r}')
        height, width = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.kernel = (tubelet_size, patch_size, patch_size)
        self.init_out_size = self._grid((num_frames, height, width))
        self.projection = nn.Conv3d(in_channels, embed_dims, self.kernel, stride=self.kernel,
                                    bias=bias)
        self.pos_embed_type = pos_embed
        if pos_embed == 'sincos':
            self.register_buffer('pos_embed', sincos_position_table(self.init_out_size, embed_dims),
                                 persistent=False)
        else:
            num_tokens = math.prod(self.init_out_size)
            self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens, embed_dims))
            trunc_normal_(self.pos_embed, std=.02)

    def _grid(self, size: Sequence[int]) -> Tuple[int, int, int]:
        bad = [f'{name} {n} is not a multiple of {k}'
               for name, n, k in zip(('frames', 'height', 'width'), size, self.kernel)
               if n % k or n < k]
        if bad:
            raise ValueError(f'{type(self).__name__}: {"; ".join(bad)} (tubelet '
                             f'{"×".join(map(str, self.kernel))}; nothing is padded or dropped)')
        return tuple(n // k for n, k in zip(size, self.kernel))

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int, int]]:
        """``(B, C, T, H, W)`` → tokens ``(B, T/t · H/p · W/p, D)`` and the grid
        ``(T/t, H/p, W/p)``."""
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects video clips of shape '
                             f'(B, {self.in_channels}, T, H, W), got {tuple(x.shape)}')
        grid = self._grid(x.shape[2:])
        return self.projection(x).flatten(2).transpose(1, 2), grid

    def position_embedding(self, grid: Sequence[int]) -> Tensor:
        """``[1, N, D]`` for a token grid ``(T, H, W)``.

        Another grid than the configured one gets a sin-cos table of its own length (what
        VideoMAE builds for that clip size), or the learned table resized trilinearly.
        """
        grid = tuple(grid)
        if grid == tuple(self.init_out_size):
            return self.pos_embed
        if self.pos_embed_type == 'sincos':
            table = sincos_position_table(grid, self.embed_dims)
            return table.to(device=self.pos_embed.device, dtype=self.pos_embed.dtype)
        table = self.pos_embed.reshape(1, *self.init_out_size, -1).permute(0, 4, 1, 2, 3)
        table = F.interpolate(table, size=grid, mode='trilinear', align_corners=False)
        return table.flatten(2).transpose(1, 2)

    def input_shape(self, size: InputSize = None) -> Tuple[int, int, int, int]:
        """``(C, T, H, W)`` for ``size`` ``(T, H, W)``; None: the configured clip size."""
        if size is None:
            size = [n * k for n, k in zip(self.init_out_size, self.kernel)]
        frames, height, width = (int(n) for n in size)
        return self.in_channels, frames, height, width

    def fold(self, A: Tensor, c: Tensor, input_shape: Sequence[int]) -> TokenizerFold:
        """The tubelet projection followed by ``A·t + c``; the positions of the clip size
        ``input_shape``, times ``A``, become a learned table (no sin-cos table any more)."""
        channels, frames, height, width = (int(n) for n in input_shape)
        with torch.no_grad():
            state = fold_projection(self.projection, A, c)
            positions = self.position_embedding(self._grid((frames, height, width)))
            state['pos_embed'] = (positions @ A.T).detach().clone()
        cfg = dict(type='VideoTokenizer', in_channels=channels, num_frames=frames,
                   img_size=(height, width), patch_size=self.kernel[1],
                   tubelet_size=self.kernel[0], pos_embed='learned', bias=True)
        return TokenizerFold(cfg, state)
