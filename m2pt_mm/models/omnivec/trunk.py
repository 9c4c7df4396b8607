"""OmniVec's shared trunk: the M2PT ViT's block stack, with OmniVec's class token in front."""
from typing import Any, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from m2pt_mm.pathway import freeze_all_but_scales

from ..backbones.m2pt_vit import ViTBlockStack, tokens_to_featmap
from ..utils import TokenGrid


def _draw_conv_init(dims: int) -> None:
    """Draw what initialising ``nn.Conv2d(1, dims, 1)`` draws: its weight, then its bias."""
    torch.empty(dims).uniform_()
    torch.empty(dims).uniform_()


@MODELS.register_module()
class OmniVecTrunk(ViTBlockStack, BaseModule):
    """Class token, blocks, final norm: the block stack of ``M2PTVisionTransformer``.

    The blocks, ``ln1``, pathways and ``get_layer_depth`` are the backbone's own
    (:class:`~m2pt_mm.models.backbones.m2pt_vit.ViTBlockStack`), so the state dict has the
    backbone's names, ``cls_token``, ``layers.{i}.attn.qkv``, ``layers.{i}.ffn.layers.0.0``,
    ..., ``ln1``, and an OmniVec model stores them under ``trunk.``: a trunk checkpoint is an
    M2PT auxiliary model and a trunk plus one encoder is a plain ViT. What lies before the
    blocks in the backbone (tokenizer, positions, ``pre_norm``) is OmniVec's encoders and
    projections; what lies after (outputs, pooling) its heads.

    Args:
        arch: mmpretrain's ViT preset (``'base'``, ...) or a dict with ``embed_dims``,
            ``num_layers``, ``num_heads``, ``feedforward_channels``.
        with_cls_token: Whether the projections put the class token in front of the tokens.
        final_norm: Apply ``ln1`` after the last block.
        drop_rate: Dropout on the trunk's input and in the blocks.
        drop_path_rate: Stochastic depth, linear over the blocks.
        qkv_bias: Bias of the blocks' qkv.
        norm_cfg: Norm of the blocks and ``ln1``.
        layer_scale_init_value: Layer scale of the blocks (0: none).
        layer_cfgs: Per-block overrides (one dict for all, or one per block).
        pathway: As ``M2PTVisionTransformer``'s.
        fix_weights: As ``M2PTVisionTransformer``'s (all but the Cross-Modal Scales frozen).
        deploy: Build the merged (plain) blocks; ``pathway`` is then ignored (warned).
        init_cfg: Initialisation config.
        **kwargs: Refused: the backbone's stem and output options have no place here.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 with_cls_token: bool = True,
                 final_norm: bool = True,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 qkv_bias: bool = True,
                 norm_cfg: Optional[dict] = None,
                 layer_scale_init_value: float = 0.,
                 layer_cfgs: Union[dict, Sequence[dict]] = (),
                 pathway: Union[None, dict, Sequence[dict]] = None,
                 fix_weights: bool = False,
                 deploy: bool = False,
                 init_cfg: Optional[dict] = None,
                 **kwargs: Any) -> None:
        if kwargs:
            raise ValueError(f'OmniVecTrunk takes no {sorted(kwargs)}: it is the blocks only '
                             '(tokenizers and positions belong to the encoders, the pre-norm to '
                             'the projections, outputs to the heads)')
        super().__init__(init_cfg)
        self._set_arch(arch)
        # A seeded OmniVec keeps the weights it always had (studies reproduce): the trunk draws
        # from the random stream what it drew as an M2PT backbone, whose 1×1 stem conv was
        # initialised before the blocks and its 1×1 tokenizer conv after them.
        _draw_conv_init(self.embed_dims)
        # before the blocks, as in the backbone: the parameter order (an optimizer state's) holds
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims)) if with_cls_token \
            else None
        self._build_blocks(drop_rate, drop_path_rate, qkv_bias, norm_cfg, final_norm,
                           layer_scale_init_value, layer_cfgs)
        _draw_conv_init(self.embed_dims)
        self.num_extra_tokens = int(with_cls_token)
        self.drop_after_pos = nn.Dropout(p=drop_rate)  # the backbone's name for its input dropout
        self._configure_pathways(pathway, fix_weights, deploy, 'OmniVecTrunk')
        self._attach_pathways()
        if fix_weights:
            freeze_all_but_scales(self)

    def init_weights(self) -> None:
        """Initialise the blocks (``init_cfg``), then read every aux checkpoint."""
        super().init_weights()
        self._init_pathway_weights()

    def forward(self, x: Tensor, key_padding_mask: Optional[Tensor] = None) -> List[Tensor]:
        """Projected tokens ``[B, (1 +) N, D]`` (class token first) → every block's output, the
        last one through ``ln1`` (with ``final_norm``).

        Args:
            x: The tokens.
            key_padding_mask: ``[B, (1 +) N]`` bool, True at tokens no token attends to (text
                ``[PAD]``); None: every token attends to every token (mmpretrain's block as is).
        """
        if x.dim() != 3 or x.shape[-1] != self.embed_dims:
            raise ValueError(f'the trunk expects tokens [B, N, {self.embed_dims}], got '
                             f'{tuple(x.shape)}')
        return [out for _, out in self._blocks(self.drop_after_pos(x),
                                               key_padding_mask=key_padding_mask)]

    def featmap(self, x: Tensor, grid: TokenGrid) -> Tensor:
        """A block output as a feature map: ``[B, D, h, w]``, ``[B, D, t, h, w]`` (video),
        ``[B, D, G]`` (point groups) or ``[B, D, L]`` (text)."""
        return tokens_to_featmap(x, grid, self.num_extra_tokens)
