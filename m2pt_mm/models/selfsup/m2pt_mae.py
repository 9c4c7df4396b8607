"""MAE-style masked-token pretraining of the M2PT ViT for any tokenizer (image, audio, video,
point cloud): the masking backbone and the algorithm that passes the token grid along."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmpretrain.models.selfsup import MAE
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..backbones.m2pt_vit import M2PTVisionTransformer
from ..utils import TokenGrid, sincos_position_table
from .token_masking import MASK_MODES, TokenMasking


@MODELS.register_module()
class M2PTMAEViT(M2PTVisionTransformer):
    """The M2PT ViT for MAE pretraining: tokens are masked right after the tokenizer.

    ``forward(x)`` returns ``(latent, mask, ids_restore)`` as mmpretrain's ``MAEViT``, so
    mmpretrain's ``MAE`` / ``MAEPretrainDecoder`` / ``MAEPretrainHead`` work unchanged for images;
    :meth:`forward_masked` adds the tokenizer's grid, which the other modalities' decoders and
    targets need (:class:`M2PTMAE`). Parameters and state-dict names are exactly those of
    :class:`M2PTVisionTransformer` (nothing is added), so a pretraining checkpoint is read by
    ``read_checkpoint`` as an aux (or target) model directly.

    Position embeddings follow each base method: a backbone table (image, audio) is MAE's /
    AudioMAE's fixed 2-D sin-cos on the tokenizer grid; video keeps its tokenizer's sin-cos table
    (VideoMAE), point clouds their learned MLP on the centres (Point-MAE, re-added before every
    block).

    Args:
        arch: As :class:`M2PTVisionTransformer`.
        mask_ratio: Fraction of tokens masked; None takes the tokenizer's ``mask_defaults``
            (its base method's: image 0.75, audio 0.8, video 0.9, point 0.6).
        mask_mode: ``'random'`` (every token independently, MAE) or ``'tube'`` (one spatial mask
            shared by all time steps of a video grid, VideoMAE); None takes the tokenizer's.
            How the count rounds is always the tokenizer's (``mask_defaults.count``).
        out_type: Output without a mask (``forward(x, mask=None)``); ``'raw'`` as ``MAEViT``.
        **kwargs: Passed on to :class:`M2PTVisionTransformer` (``tokenizer``, ``with_cls_token``,
            ``img_size``, ...).
    """

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 mask_ratio: Optional[float] = None,
                 mask_mode: Optional[str] = None,
                 out_type: str = 'raw',
                 **kwargs: object) -> None:
        super().__init__(arch=arch, out_type=out_type, **kwargs)
        name = type(self.patch_embed).__name__
        ratio, mode, self.mask_count = self.patch_embed.mask_defaults
        self.mask_ratio = ratio if mask_ratio is None else float(mask_ratio)
        self.mask_mode = mode if mask_mode is None else mask_mode
        if not 0. <= self.mask_ratio < 1.:
            raise ValueError(f'mask_ratio must be in [0, 1), got {self.mask_ratio}')
        if self.mask_mode not in MASK_MODES:
            raise ValueError(f'mask_mode must be one of {MASK_MODES}, got {self.mask_mode!r}')
        if self.mask_mode == 'tube' and len(self.patch_resolution) != 3:
            raise ValueError(f'mask_mode="tube" needs a (t, h, w) token grid (VideoTokenizer); '
                             f'{name} has the grid {tuple(self.patch_resolution)}')
        if self.pos_embed is not None:
            # fixed sin-cos during pretraining, as MAE and AudioMAE
            self.pos_embed.requires_grad = False

    def init_weights(self) -> None:
        """As the backbone, then MAE's: sin-cos ``pos_embed``, Xavier tokenizer projection."""
        super().init_weights()
        if self.pos_embed is not None:
            if len(self.patch_resolution) != 2:
                raise ValueError(f'a backbone position table needs a 2-D token grid, got '
                                 f'{tuple(self.patch_resolution)}')
            self.pos_embed.data.copy_(sincos_position_table(
                self.patch_resolution, self.embed_dims, cls_token=self.num_extra_tokens == 1))
        projection = getattr(self.patch_embed, 'projection', None)
        if projection is not None:  # MAE: treat the patch projection like a linear layer
            weight = projection.weight.data
            torch.nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
        if self.cls_token is not None:
            torch.nn.init.normal_(self.cls_token, std=.02)

    @property
    def masking(self) -> TokenMasking:
        """The masking rule of ``mask_ratio``, ``mask_mode`` and ``mask_count``."""
        return TokenMasking(self.mask_ratio, self.mask_mode, self.mask_count)

    def forward_masked(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, TokenGrid]:
        """Tokenize, add positions, keep the visible tokens, run the blocks.

        Returns:
            ``latent [B, extra + V, D]`` (final norm applied), ``mask [B, L]`` (1 = masked),
            ``ids_restore [B, L]``, and the tokenizer's grid (``(h, w)``, ``(t, h, w)`` or
            :class:`~m2pt_mm.models.utils.PointCentres`).
        """
        tokens, grid = self.patch_embed(x)
        batch, num_tokens, dims = tokens.shape
        extra = self.num_extra_tokens
        pos = self._position_embedding(grid)
        token_pos = pos[:, extra:].expand(batch, -1, -1)
        mask, ids_keep, ids_restore = self.masking.draw(batch, grid, num_tokens, tokens.device)
        index = ids_keep.unsqueeze(-1).expand(-1, -1, dims)
        visible_pos = torch.gather(token_pos, 1, index)
        x = torch.gather(tokens, 1, index) + visible_pos
        if self.cls_token is not None:
            cls_pos = pos[:, :1].expand(batch, -1, -1)
            x = torch.cat((self.cls_token.expand(batch, -1, -1) + cls_pos, x), dim=1)
            visible_pos = torch.cat((cls_pos, visible_pos), dim=1)
        x = self.pre_norm(self.drop_after_pos(x))
        for _, x in self._blocks(x, pos=visible_pos if self.pos_every_block else None):
            pass  # to the last block's output (through ln1 with final_norm)
        return x, mask, ids_restore, grid

    def forward(self, x: Tensor, mask: Optional[bool] = True
                ) -> Union[Tuple[Tensor, Tensor, Tensor], Tuple[Tensor, ...]]:
        """``(latent, mask, ids_restore)`` as ``MAEViT``; with ``mask=None`` or ``False`` the
        plain backbone forward (feature extraction)."""
        if not mask:
            return super().forward(x)
        return self.forward_masked(x)[:3]


@MODELS.register_module()
class M2PTMAE(MAE):
    """mmpretrain's ``MAE`` whose neck and head also receive the token grid.

    Spectrogram, video and point decoders need the grid for their position embedding
    (:class:`M2PTMAEDecoder`) and the point head needs the group centres to rebuild its target
    groups (:class:`PointMAEHead`); images can keep mmpretrain's plain ``MAE``.
    """

    def loss(self, inputs: Tensor, data_samples: List[DataSample],
             **kwargs: object) -> Dict[str, Tensor]:
        """Masked forward, decode every token, reconstruction loss on the masked ones."""
        if not hasattr(self.backbone, 'forward_masked'):
            raise TypeError(f'M2PTMAE needs a backbone with forward_masked (M2PTMAEViT), got '
                            f'{type(self.backbone).__name__}')
        latent, mask, ids_restore, grid = self.backbone.forward_masked(inputs)
        pred = self.neck(latent, ids_restore, grid)
        return dict(loss=self.head.loss(pred, inputs, mask, grid))

