"""What masked-token pretraining needs per modality beyond mmpretrain's MAE: a decoder whose
position embedding fits any token grid, spectrogram / tubelet / point-group targets, and
Point-MAE's Chamfer loss."""
import math
from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmpretrain.models.heads import MAEPretrainHead
from mmpretrain.models.necks import MAEPretrainDecoder
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..utils import PointCentres, TokenGrid, knn, point_position_mlp, sincos_position_table

POS_EMBEDS = ('sincos', 'mlp')


@MODELS.register_module()
class M2PTMAEDecoder(MAEPretrainDecoder):
    """mmpretrain's ``MAEPretrainDecoder`` for any token grid, with or without a class token.

    * ``grid=(h, w)`` (images, spectrograms): MAE's / AudioMAE's fixed 2-D sin-cos table on
      that grid (mmpretrain's assumes a square one);
    * ``grid=(t, h, w)`` (video): VideoMAE's fixed 1-D sin-cos table over the token index;
    * ``grid=(G, )`` with ``pos_embed='mlp'`` (point clouds): Point-MAE's decoder position
      embedding, an MLP on the group centres (the grid the backbone passes at run time), added
      before every block (``pos_every_block``).

    Args:
        grid: The encoder's token grid (the tokenizer's ``init_out_size``).
        num_extra_tokens: 1 when the encoder has a class token (MAE, AudioMAE), else 0
            (VideoMAE, Point-MAE).
        pos_embed: ``'sincos'`` (fixed table) or ``'mlp'`` (on point centres).
        pos_every_block: Re-add the position embedding before every block (Point-MAE).
        predict_feature_dim: Output width per token: ``p·p·C`` pixels / fbank values,
            ``t·p·p·C`` tubelet pixels, ``3·K`` point coordinates.
        **kwargs: ``embed_dim``, ``decoder_embed_dim``, ``decoder_depth``,
            ``decoder_num_heads``, ``mlp_ratio``, ``norm_cfg``, ``init_cfg`` as mmpretrain's.
    """

    def __init__(self,
                 grid: Sequence[int],
                 predict_feature_dim: int,
                 num_extra_tokens: int = 1,
                 pos_embed: str = 'sincos',
                 pos_every_block: bool = False,
                 **kwargs: object) -> None:
        grid = tuple(int(n) for n in grid)
        if pos_embed not in POS_EMBEDS:
            raise ValueError(f'pos_embed must be one of {POS_EMBEDS}, got {pos_embed!r}')
        if pos_embed == 'sincos' and len(grid) not in (2, 3):
            raise ValueError(f'a sin-cos decoder table needs a (h, w) or (t, h, w) grid, '
                             f'got {grid}')
        if pos_embed == 'mlp' and num_extra_tokens:
            raise ValueError('pos_embed="mlp" embeds point centres: it has no position for a '
                             'class token (num_extra_tokens must be 0, as Point-MAE)')
        if num_extra_tokens not in (0, 1):
            raise ValueError(f'num_extra_tokens must be 0 or 1, got {num_extra_tokens}')
        super().__init__(num_patches=math.prod(grid), predict_feature_dim=predict_feature_dim,
                         **kwargs)
        self.grid = grid
        self.num_extra_tokens = num_extra_tokens
        self.pos_embed_type = pos_embed
        self.pos_every_block = pos_every_block
        dims = self.mask_token.shape[-1]
        if pos_embed == 'mlp':
            self.decoder_pos_embed = None
            self.decoder_pos_mlp = point_position_mlp(dims)
        else:
            self.decoder_pos_embed = nn.Parameter(
                torch.zeros(1, self.num_patches + num_extra_tokens, dims), requires_grad=False)

    def init_weights(self) -> None:
        """The configured init, then the fixed sin-cos table and MAE's mask-token init."""
        BaseModule.init_weights(self)  # the parent's assumes a square grid with a class token
        if self.decoder_pos_embed is not None:
            self.decoder_pos_embed.data.copy_(sincos_position_table(
                self.grid, self.decoder_pos_embed.shape[-1], cls_token=self.num_extra_tokens == 1))
        torch.nn.init.normal_(self.mask_token, std=.02)

    def _positions(self, grid: Optional[TokenGrid], batch: int) -> Tensor:
        if self.decoder_pos_embed is None:
            if not isinstance(grid, PointCentres):
                raise ValueError(f'pos_embed="mlp" needs the point centres (PointCentres) as '
                                 f'grid, got {grid!r}')
            return self.decoder_pos_mlp(grid.centres)
        if isinstance(grid, PointCentres):
            raise ValueError(f'a sin-cos decoder table needs a token grid, got {grid!r}: use '
                             'pos_embed="mlp" for point clouds')
        if grid is not None and tuple(grid) != self.grid:
            raise ValueError(f'the decoder was built for the token grid {self.grid}, the '
                             f'encoder produced {tuple(grid)}')
        return self.decoder_pos_embed.expand(batch, -1, -1)

    def forward(self, x: Tensor, ids_restore: Tensor,
                grid: Optional[TokenGrid] = None) -> Tensor:
        """Visible latents ``[B, extra + V, D]`` → predictions for every token ``[B, L, P]``."""
        x = self.decoder_embed(x)
        batch, extra = x.shape[0], self.num_extra_tokens
        visible = x[:, extra:]
        mask_tokens = self.mask_token.expand(batch, ids_restore.shape[1] - visible.shape[1], -1)
        tokens = torch.cat([visible, mask_tokens], dim=1)
        tokens = torch.gather(tokens, 1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2]))
        x = torch.cat([x[:, :extra], tokens], dim=1)
        pos = self._positions(grid, batch)
        if pos.shape[1] != x.shape[1]:
            raise ValueError(f'{x.shape[1]} decoder tokens but {pos.shape[1]} positions')
        x = x + pos
        for i, block in enumerate(self.decoder_blocks):
            if self.pos_every_block and i > 0:
                x = x + pos
            x = block(x)
        x = self.decoder_pred(self.decoder_norm(x))
        return x[:, extra:]


@MODELS.register_module()
class M2PTMAEHead(MAEPretrainHead):
    """mmpretrain's ``MAEPretrainHead`` for non-square inputs and video tubelets.

    * ``(B, C, H, W)`` images or ``(B, 1, T, F)`` fbanks (AudioMAE): ``p × p`` patches in token
      order, flattened ``(p, q, c)`` as MAE; ``norm_pix`` normalises each patch over all its
      values (MAE's and AudioMAE's ``norm_pix_loss``);
    * ``(B, C, T, H, W)`` clips (VideoMAE): ``tubelet_size × p × p`` tubelets flattened
      ``(t, p, q, c)``; ``norm_pix`` normalises each channel of a tubelet on its own with the
      unbiased std, as VideoMAE's ``normlize_target`` (an affine input normalisation per channel
      cancels out, so the normalised clip gives the same target as VideoMAE's unnormalised one).

    Args:
        loss: Config of the loss (``PixelReconstructionLoss``).
        norm_pix: Normalise the target per patch.
        patch_size: Spatial patch side.
        in_channels: Input channels.
        tubelet_size: Frames per tubelet, for 5-D inputs.
    """

    def __init__(self, loss: dict, norm_pix: bool = False, patch_size: int = 16,
                 in_channels: int = 3, tubelet_size: int = 2) -> None:
        super().__init__(loss=loss, norm_pix=norm_pix, patch_size=patch_size,
                         in_channels=in_channels)
        self.tubelet_size = tubelet_size

    def patchify(self, inputs: Tensor) -> Tensor:
        """``(B, C, H, W)`` → ``[B, L, p·p·C]``; ``(B, C, T, H, W)`` → ``[B, L, t·p·p, C]``."""
        p, t = self.patch_size, self.tubelet_size
        spatial = inputs.shape[2:] if inputs.dim() == 4 else inputs.shape[3:]
        if inputs.dim() not in (4, 5) or inputs.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects (B, {self.in_channels}, H, W) or '
                             f'(B, {self.in_channels}, T, H, W) inputs, got {tuple(inputs.shape)}')
        if any(n % p for n in spatial) or (inputs.dim() == 5 and inputs.shape[2] % t):
            unit = '×'.join(map(str, ([t] if inputs.dim() == 5 else []) + [p, p]))
            raise ValueError(f'{type(self).__name__}: input {tuple(inputs.shape)} is not a whole '
                             f'number of {unit} patches (the tokenizer pads; the target must not)')
        batch, channels = inputs.shape[:2]
        h, w = spatial[0] // p, spatial[1] // p
        if inputs.dim() == 4:
            x = inputs.reshape(batch, channels, h, p, w, p)
            return torch.einsum('nchpwq->nhwpqc', x).reshape(batch, h * w, p * p * channels)
        steps = inputs.shape[2] // t
        x = inputs.reshape(batch, channels, steps, t, h, p, w, p)
        x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)  # b, t', h, w, t, p, q, c
        return x.reshape(batch, steps * h * w, t * p * p, channels)

    def construct_target(self, target: Tensor) -> Tensor:
        """Patchified (and normalised) inputs ``[B, L, P]`` in token order."""
        if target.dim() == 4:
            return super().construct_target(target)
        x = self.patchify(target)
        if self.norm_pix:
            std = x.var(dim=-2, unbiased=True, keepdim=True).sqrt()
            x = (x - x.mean(dim=-2, keepdim=True)) / (std + 1e-6)
        return x.flatten(2)

    def loss(self, pred: Tensor, target: Tensor, mask: Tensor,
             grid: Optional[TokenGrid] = None) -> Tensor:
        """Reconstruction loss on the masked tokens (``grid`` unused: the target is the input)."""
        target = self.construct_target(target)
        if pred.shape != target.shape:
            raise ValueError(f'prediction {tuple(pred.shape)} and target {tuple(target.shape)} '
                             'differ: check the decoder predict_feature_dim and the patch sizes')
        return self.loss_module(pred, target, mask)


def chamfer_distance_l2(source: Tensor, target: Tensor) -> Tensor:
    """Point-MAE's ``ChamferDistanceL2``: mean squared distance from each point to its nearest
    neighbour in the other set, both directions summed. ``[B, N, 3]``, ``[B, M, 3]`` → scalar."""
    return knn(source, target, 1)[0].mean() + knn(target, source, 1)[0].mean()


@MODELS.register_module()
class ChamferDistanceL2(BaseModule):
    """Point-MAE's reconstruction loss (L2 Chamfer distance), in torch.

    Args:
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """``pred [B, N, 3]`` and ``target [B, M, 3]`` point sets → scalar loss."""
        if pred.dim() != 3 or target.dim() != 3 or pred.shape[-1] != 3 or target.shape[-1] != 3:
            raise ValueError(f'ChamferDistanceL2 expects point sets [B, N, 3] and [B, M, 3], got '
                             f'{tuple(pred.shape)} and {tuple(target.shape)}')
        return self.loss_weight * chamfer_distance_l2(pred, target)


@MODELS.register_module()
class PointMAEHead(BaseModule):
    """Point-MAE's target and loss: each masked group's ``K`` points, relative to its centre,
    against the ``3·K`` coordinates predicted for that token, by Chamfer distance.

    The groups are rebuilt from the centres the tokenizer returned (the ``K`` nearest points of
    each centre, as ``PointTokenizer.group``), so the farthest point sampling runs once.

    Args:
        loss: Config of the loss (``ChamferDistanceL2``).
        group_size: Points per group ``K`` (the tokenizer's).
    """

    def __init__(self, loss: Optional[dict] = None, group_size: int = 32,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg)
        self.group_size = group_size
        self.loss_module = MODELS.build(loss or dict(type='ChamferDistanceL2'))

    def construct_target(self, points: Tensor, centers: Tensor) -> Tensor:
        """``[B, N, 3+c]`` points and ``[B, G, 3]`` centres → groups ``[B, G, K, 3]``."""
        xyz = points[..., :3]
        rows = torch.arange(xyz.shape[0], device=xyz.device)[:, None, None]
        with torch.no_grad():
            _, neighbours = knn(centers, xyz, self.group_size)
        return xyz[rows, neighbours] - centers.unsqueeze(2)

    def loss(self, pred: Tensor, points: Tensor, mask: Tensor, grid: PointCentres) -> Tensor:
        """``pred [B, G, 3·K]`` for every group; the loss covers the masked groups only."""
        if not isinstance(grid, PointCentres):
            raise ValueError('PointMAEHead needs the group centres (PointCentres, from a point '
                             f'tokenizer) as grid, got {grid!r}')
        if pred.shape[-1] != 3 * self.group_size:
            raise ValueError(f'prediction width {pred.shape[-1]} != 3 × group_size '
                             f'({self.group_size}): check the decoder predict_feature_dim')
        target = self.construct_target(points, grid.centres)
        masked = mask.bool()
        rebuilt = pred[masked].reshape(-1, self.group_size, 3)
        return self.loss_module(rebuilt, target[masked])
