"""OmniVec's modality encoder: an existing tokenizer, its positions, optional encoder blocks."""
import math
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule
from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer
from mmpretrain.models.utils import resize_pos_embed
from torch import Tensor, nn

from m2pt_mm.registry import build_tokenizer

from ..backbones.m2pt_vit import run_block_with_key_padding
from ..utils import TokenGrid, sincos_position_table

#: The tables an encoder may hold (``HOST_POS_EMBEDS`` less ``'none'``).
POS_EMBEDS = ('learned', 'sincos')


class OmniVecEncoder(BaseModule):
    """Tokenizer + positions (+ ``depth`` transformer blocks) of one modality.

    * the tokenizer is any registered one (``ImageTokenizer`` for images, and with
      ``in_channels=4`` for depth; ``AudioTokenizer``, ``VideoTokenizer``, ``PointTokenizer``,
      ``TextTokenizer``), built with ``embed_dims`` filled in;
    * positions: the tokenizer's own ``position_embedding`` where it has them
      (``host_pos_embed='none'``: video sin-cos, point MLP on the centres, text table), else a
      table on the tokenizer's grid here (learned, or MAE's fixed 2-D sin-cos), resized for
      another grid. They are added once, before the blocks (Point-MAE's re-adding before every
      block is a backbone option, not used by OmniVec);
    * ``depth`` blocks of mmpretrain's ``TransformerEncoderLayer``, the block class of the trunk
      (``depth=0``: tokenizer and positions only, the form that exports to a plain ViT).

    :meth:`embed` and :meth:`forward_blocks` are separate so that masked pretraining drops the
    masked tokens in between (the blocks never see them).

    Args:
        tokenizer: ``dict(type=..., ...)`` of a registered tokenizer.
        embed_dims: Encoder width (the tokenizer's and the blocks').
        depth: Number of encoder blocks.
        num_heads: Attention heads of the blocks.
        feedforward_channels: MLP width of the blocks; ``4 · embed_dims`` when None.
        pos_embed: ``'learned'`` or ``'sincos'``, the table for a tokenizer without positions of
            its own; None: the tokenizer's ``host_pos_embed``.
        qkv_bias: Bias of the blocks' qkv.
        drop_path_rate: Stochastic depth of the blocks (linear over them).
        norm_cfg: Norm config of the blocks.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 tokenizer: dict,
                 embed_dims: int,
                 depth: int = 0,
                 num_heads: int = 1,
                 feedforward_channels: Optional[int] = None,
                 pos_embed: Optional[str] = None,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if pos_embed is not None and pos_embed not in POS_EMBEDS:
            raise ValueError(f'pos_embed must be None or one of {POS_EMBEDS}, got {pos_embed!r}')
        if depth < 0:
            raise ValueError(f'depth must be >= 0, got {depth}')
        self.embed_dims, self.depth = embed_dims, depth
        self.tokenizer = build_tokenizer(tokenizer, embed_dims=embed_dims)
        self.grid = tuple(self.tokenizer.init_out_size)
        self.own_positions = self.tokenizer.host_pos_embed == 'none'
        self.pos_embed_type = None if self.own_positions else (
            pos_embed or self.tokenizer.host_pos_embed)
        if self.own_positions:
            self.pos_embed = None
        else:
            if len(self.grid) != 2:
                raise ValueError(f'{type(self.tokenizer).__name__} has the grid {self.grid} and no '
                                 'position embedding of its own: a table needs a 2-D grid')
            table = sincos_position_table(self.grid, embed_dims)
            if self.pos_embed_type == 'learned':
                self.pos_embed = nn.Parameter(torch.zeros_like(table))
                nn.init.trunc_normal_(self.pos_embed, std=.02)
            else:
                self.register_buffer('pos_embed', table, persistent=False)
        dpr = torch.linspace(0, drop_path_rate, max(depth, 1)).tolist()
        self.blocks = nn.ModuleList(
            TransformerEncoderLayer(
                embed_dims=embed_dims, num_heads=num_heads,
                feedforward_channels=feedforward_channels or 4 * embed_dims,
                drop_path_rate=dpr[i], qkv_bias=qkv_bias,
                norm_cfg=norm_cfg or dict(type='LN', eps=1e-6)) for i in range(depth))

    def position_embedding(self, grid: TokenGrid) -> Tensor:
        """``[1 or B, N, D]`` positions of the tokens of ``grid``."""
        if self.own_positions:
            return self.tokenizer.position_embedding(grid)
        grid = tuple(grid)
        if grid == self.grid:
            return self.pos_embed
        if self.pos_embed_type == 'sincos':
            return sincos_position_table(grid, self.embed_dims).to(self.pos_embed)
        return resize_pos_embed(self.pos_embed, self.grid, grid, mode='bicubic', num_extra_tokens=0)

    def embed(self, x: Tensor) -> Tuple[Tensor, TokenGrid]:
        """Tokenize and add positions: ``[B, N, D]`` and the grid (or point centres)."""
        tokens, grid = self.tokenizer(x)
        if isinstance(grid, tuple) and math.prod(grid) != tokens.shape[1]:
            raise ValueError(f'{type(self.tokenizer).__name__} returned {tokens.shape[1]} tokens '
                             f'for the grid {grid}')
        return tokens + self.position_embedding(grid), grid

    def padding_mask(self, x: Tensor) -> Optional[Tensor]:
        """``[B, N]`` True at the tokenizer's padding (text ``[PAD]`` ids, one token per id);
        None where every token is real."""
        return self.tokenizer.key_padding_mask(x)

    def forward_blocks(self, tokens: Tensor, key_padding_mask: Optional[Tensor] = None) -> Tensor:
        """Run the encoder blocks (none for ``depth=0``), padded tokens left out of attention
        when ``key_padding_mask`` ``[B, N]`` is given."""
        for block in self.blocks:
            tokens = block(tokens) if key_padding_mask is None else run_block_with_key_padding(
                block, tokens, key_padding_mask)
        return tokens

    def forward(self, x: Tensor) -> Tuple[Tensor, TokenGrid]:
        """``x`` → encoded tokens ``[B, N, D]`` and the grid."""
        tokens, grid = self.embed(x)
        return self.forward_blocks(tokens, self.padding_mask(x)), grid
