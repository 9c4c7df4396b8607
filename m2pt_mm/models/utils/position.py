"""Position embeddings shared by tokenizers, backbones and MAE decoders: the fixed sin-cos tables
of MAE / VideoMAE and Point-MAE's MLP on point coordinates."""
import math
from typing import Sequence

import torch
from torch import Tensor, nn


def _sincos_1d(num_positions: int, dims: int) -> Tensor:
    """VideoMAE's ``get_sinusoid_encoding_table``: ``[num_positions, dims]``, sin on even channels
    and cos on odd ones, in float64 as VideoMAE's NumPy code."""
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]
    exponent = 2 * (torch.arange(dims) // 2).to(torch.float64) / dims
    angles = position / torch.pow(10000.0, exponent)[None]
    table = torch.empty_like(angles)
    table[:, 0::2] = torch.sin(angles[:, 0::2])
    table[:, 1::2] = torch.cos(angles[:, 1::2])
    return table


def _sincos_2d(rows: int, cols: int, dims: int) -> Tensor:
    """MAE's ``get_2d_sincos_pos_embed`` ``[rows·cols, dims]`` in row-major token order: the first
    half of the channels encodes the column, the second the row, each ``[sin | cos]``."""
    if dims % 4:
        raise ValueError(f'a 2-D sin-cos position embedding needs dims divisible by 4, got {dims}')
    row, col = torch.meshgrid(torch.arange(rows, dtype=torch.float64),
                              torch.arange(cols, dtype=torch.float64), indexing='ij')
    omega = 1. / 10000**(torch.arange(dims // 4, dtype=torch.float64) / (dims / 4))

    def encode(pos: Tensor) -> Tensor:
        angles = pos.flatten()[:, None] * omega[None]
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    return torch.cat([encode(col), encode(row)], dim=1)


def sincos_position_table(grid: Sequence[int], dims: int, cls_token: bool = False) -> Tensor:
    """The fixed sin-cos position table of a token grid, as each base method builds it.

    * ``(n, )`` and ``(t, h, w)``: VideoMAE's 1-D table over the flattened (time-major) token
      index, sin on even channels, cos on odd ones;
    * ``(h, w)``: MAE's 2-D table (AudioMAE's ``_flexible`` variant for non-square grids such as
      64 × 8), row-major; mmpretrain's ``build_2d_sincos_position_embedding`` flattens
      column-major, which scrambles positions on a non-square grid.

    Args:
        grid: The token grid.
        dims: Channels (a multiple of 4 for a 2-D grid).
        cls_token: Prepend a zero row for a class token (MAE).

    Returns:
        float32 ``[1, (1 +) prod(grid), dims]``.
    """
    grid = tuple(int(n) for n in grid)
    if len(grid) == 2:
        table = _sincos_2d(grid[0], grid[1], dims)
    elif len(grid) in (1, 3):
        table = _sincos_1d(math.prod(grid), dims)
    else:
        raise ValueError(f'a sin-cos position table needs a (n, ), (h, w) or (t, h, w) grid, '
                         f'got {grid}')
    table = table.float()
    if cls_token:
        table = torch.cat([table.new_zeros(1, dims), table], dim=0)
    return table.unsqueeze(0)


def point_position_mlp(out_dims: int, hidden_dims: int = 128) -> nn.Sequential:
    """Point-MAE's position embedding of point coordinates:
    ``Linear(3, 128) - GELU - Linear(128, out_dims)``.

    Its parameter names (``0.weight``, ``0.bias``, ``2.weight``, ``2.bias``) are Point-MAE's
    (``pos_embed.*`` of the encoder, ``decoder_pos_embed.*`` of the decoder), so its checkpoints
    load.
    """
    return nn.Sequential(nn.Linear(3, hidden_dims), nn.GELU(), nn.Linear(hidden_dims, out_dims))
