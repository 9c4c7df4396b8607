"""Point-cloud tokenizer: Point-MAE's farthest-point groups, mini-PointNet and MLP positions."""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from m2pt_mm.registry import TOKENIZERS

from ..utils import PointCentres, farthest_point_sample, knn, point_position_mlp
from .base import BaseTokenizer, InputSize, MaskDefaults, TokenizerFold


class PointGroupEncoder(nn.Module):
    """Point-MAE's ``Encoder``: a shared mini-PointNet that maps each group of ``K`` points
    (coordinates relative to the group centre) to one ``out_dims`` vector; the widths 128, 256
    and 512 are Point-MAE's, so its checkpoints load."""

    def __init__(self, out_dims: int) -> None:
        super().__init__()
        self.out_dims = out_dims
        self.first_conv = nn.Sequential(
            nn.Conv1d(3, 128, 1), nn.BatchNorm1d(128), nn.ReLU(inplace=True),
            nn.Conv1d(128, 256, 1))
        self.second_conv = nn.Sequential(
            nn.Conv1d(512, 512, 1), nn.BatchNorm1d(512), nn.ReLU(inplace=True),
            nn.Conv1d(512, out_dims, 1))

    def forward(self, groups: Tensor) -> Tensor:
        """``[B, G, K, 3]`` → ``[B, G, out_dims]``."""
        batch, num_groups, group_size, _ = groups.shape
        feature = self.first_conv(groups.reshape(batch * num_groups, group_size, 3).transpose(2, 1))
        pooled = feature.max(dim=2, keepdim=True)[0]
        feature = self.second_conv(torch.cat([pooled.expand(-1, -1, group_size), feature], dim=1))
        return feature.max(dim=2)[0].reshape(batch, num_groups, self.out_dims)


class AdjacencyEmbed(nn.Module):
    """The M2PT paper's text (its Eq. 3): each group is described by its row of a ``G × G``
    adjacency matrix (Euclidean distances between group centroids, i.e. the means of the
    ``K`` grouped points), projected to ``out_dims`` by a linear layer."""

    def __init__(self, num_groups: int, out_dims: int) -> None:
        super().__init__()
        self.projection = nn.Linear(num_groups, out_dims)

    def forward(self, groups: Tensor, centers: Tensor) -> Tensor:
        centroids = (groups + centers.unsqueeze(2)).mean(dim=2)
        adjacency = torch.cdist(centroids, centroids, compute_mode='donot_use_mm_for_euclid_dist')
        return self.projection(adjacency)


@TOKENIZERS.register_module()
class PointTokenizer(BaseTokenizer):
    """Point-MAE's tokenizer: ``G`` centres by farthest point sampling, the ``K`` nearest
    points of each as a group (coordinates relative to its centre), one token per group.

    The position embedding is an MLP on the centres (``Linear(3, 128)-GELU-Linear(128, D)``)
    and belongs to the tokenizer; Point-MAE adds it again before every block
    (``pos_every_block``), and the backbone follows the tokenizer's choice. In place of a token
    grid this tokenizer returns :class:`~m2pt_mm.models.utils.PointCentres`:
    :meth:`position_embedding` needs the centres, and a part-segmentation head propagates token
    features from them back to the points (see ``M2PTVisionTransformer.forward_with_grid``).

    Parameter names are Point-MAE's under ``patch_embed.``: ``encoder.first_conv.*``,
    ``encoder.second_conv.*``, ``pos_embed.{0,2}.*``. Point-MAE's blocks use LayerNorm with
    eps 1e-5 and no qkv bias: configure the backbone with ``norm_cfg=dict(type='LN', eps=1e-5)``
    and ``qkv_bias=False`` to reproduce it exactly. Masked pretraining defaults to Point-MAE's
    (``mask_type='rand'``): 60 % of the groups.

    Args:
        embed_dims: Token width (768 in M2PT's point configs, 384 in Point-MAE's).
        num_groups: Centres ``G`` (64 for 1024 points, 128 for 2048).
        group_size: Points per group ``K``.
        group_embed: ``'pointnet'`` (Point-MAE's mini-PointNet, the official M2PT code) or
            ``'adjacency'`` (the paper's text: rows of the ``G × G`` distance matrix between
            group centroids, projected linearly; no Point-MAE checkpoint fits it).
        pos_every_block: Whether the backbone re-adds the position embedding before every
            block (Point-MAE) instead of once before the first.
        init_cfg: Initialisation config; Point-MAE's truncated normal (std 0.02) by default.
    """

    GROUP_EMBEDS = ('pointnet', 'adjacency')
    host_pos_embed = 'none'
    mask_defaults = MaskDefaults(0.6, 'random', 'mask')

    def __init__(self,
                 embed_dims: int = 768,
                 num_groups: int = 64,
                 group_size: int = 32,
                 group_embed: str = 'pointnet',
                 pos_every_block: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        if init_cfg is None:
            init_cfg = dict(type='TruncNormal', layer=['Linear', 'Conv1d'], std=.02, bias=0.)
        super().__init__(init_cfg)
        if group_embed not in self.GROUP_EMBEDS:
            raise ValueError(f'group_embed must be one of {self.GROUP_EMBEDS}, got {group_embed!r}')
        self.embed_dims = embed_dims
        self.num_groups = num_groups
        self.group_size = group_size
        self.group_embed = group_embed
        self.pos_every_block = pos_every_block
        self.init_out_size = (num_groups, )
        if group_embed == 'pointnet':
            self.encoder = PointGroupEncoder(embed_dims)
        else:
            self.encoder = AdjacencyEmbed(num_groups, embed_dims)
        self.pos_embed = point_position_mlp(embed_dims)

    def _check(self, points: Tensor) -> Tensor:
        if points.dim() != 3 or points.shape[-1] < 3:
            raise ValueError(f'{type(self).__name__} expects point clouds of shape (B, N, 3) or '
                             f'(B, N, 3 + c) (xyz first, e.g. normals after), '
                             f'got {tuple(points.shape)}')
        needed = max(self.num_groups, self.group_size)
        if points.shape[1] < needed:
            raise ValueError(f'{type(self).__name__}: a point cloud of {points.shape[1]} points '
                             f'is too small for {self.num_groups} groups of {self.group_size} '
                             f'points (needs at least {needed}; input shape '
                             f'{tuple(points.shape)}, expected (B, N, 3))')
        xyz = points[..., :3]
        finite = torch.isfinite(xyz).all(dim=-1).all(dim=-1)
        if not bool(finite.all()):
            bad = torch.nonzero(~finite).flatten().tolist()
            raise ValueError(f'{type(self).__name__}: point clouds {bad[:8]} of the batch contain '
                             'NaN or infinite coordinates')
        return xyz

    def group(self, points: Tensor) -> Tuple[Tensor, Tensor]:
        """Point clouds ``[B, N, 3+c]`` → groups ``[B, G, K, 3]`` (relative to their centre)
        and centres ``[B, G, 3]``."""
        xyz = self._check(points).contiguous()
        rows = torch.arange(xyz.shape[0], device=xyz.device)[:, None]
        with torch.no_grad():  # indices only: the gathered coordinates keep their gradient
            centers_idx = farthest_point_sample(xyz, self.num_groups)
            _, neighbours = knn(xyz[rows, centers_idx], xyz, self.group_size)
        centers = xyz[rows, centers_idx]
        groups = xyz[rows[..., None], neighbours] - centers.unsqueeze(2)
        return groups, centers

    def forward(self, points: Tensor) -> Tuple[Tensor, PointCentres]:
        """``[B, N, 3+c]`` → tokens ``[B, G, D]`` and their positions, the centres ``[B, G, 3]``."""
        groups, centers = self.group(points)
        if self.group_embed == 'pointnet':
            return self.encoder(groups), PointCentres(centers)
        return self.encoder(groups, centers), PointCentres(centers)

    def position_embedding(self, positions: PointCentres) -> Tensor:
        """The centres :meth:`forward` returned → ``[B, G, D]`` position embedding."""
        if not isinstance(positions, PointCentres):
            raise TypeError(f'{type(self).__name__}.position_embedding expects the PointCentres '
                            f'its forward returned, got {type(positions).__name__}')
        return self.pos_embed(positions.centres)

    def input_shape(self, size: InputSize = None) -> Optional[Tuple[int, int]]:
        """``(N, 3)`` for ``size`` ``N`` points; None for None: the number of points is the
        data's, not the tokenizer's."""
        return None if size is None else (int(size), 3)

    def fold(self, A: Tensor, c: Tensor, input_shape: Sequence[int]) -> TokenizerFold:
        """The adjacency projection and the position MLP's last layer followed by ``A``, ``c``
        added to the tokens.

        Raises:
            ValueError: ``group_embed='pointnet'``: its max-pool after the last layer does not
                commute with a linear map.
        """
        if self.group_embed != 'adjacency':
            raise ValueError("a PointTokenizer with group_embed='pointnet' does not fold: its "
                             'mini-PointNet max-pools after its last layer, and a linear map does '
                             "not commute with the max (group_embed='adjacency' exports)")
        with torch.no_grad():
            state = {k: v.detach().clone() for k, v in self.state_dict().items()}
            linear, position = self.encoder.projection, self.pos_embed[2]
            state.update({'encoder.projection.weight': A @ linear.weight,
                          'encoder.projection.bias': A @ linear.bias + c,
                          'pos_embed.2.weight': A @ position.weight,
                          'pos_embed.2.bias': A @ position.bias})
        cfg = dict(type='PointTokenizer', num_groups=self.num_groups, group_size=self.group_size,
                   group_embed='adjacency', pos_every_block=False)
        return TokenizerFold(cfg, state)
