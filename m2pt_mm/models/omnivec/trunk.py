"""OmniVec's shared trunk: the blocks of ``M2PTVisionTransformer``, under its own names."""
from typing import Any, List, Optional, Union

from mmpretrain.registry import MODELS
from torch import Tensor

from ..backbones.m2pt_vit import M2PTVisionTransformer, run_block_with_key_padding
from ..utils import TokenGrid

#: Backbone options that belong to the encoders and projections in OmniVec, or to the heads.
_NOT_TRUNK_OPTIONS = ('tokenizer', 'img_size', 'patch_size', 'in_channels', 'out_type',
                      'out_indices', 'norm_outs', 'pre_norm', 'frozen_stages')


@MODELS.register_module()
class OmniVecTrunk(M2PTVisionTransformer):
    """``M2PTVisionTransformer`` without its stem: class token, blocks, final norm.

    It *is* the M2PT backbone class (same block classes, ``arch`` presets, pathways,
    ``get_layer_depth``), so its state dict has the backbone's names, ``cls_token``,
    ``layers.{i}.attn.qkv``, ``layers.{i}.ffn.layers.0.0``, ..., ``ln1``, and an OmniVec model
    stores them under ``trunk.``: a trunk checkpoint is an M2PT auxiliary model and a trunk plus
    one encoder is a plain ViT. The tokenizer, position table and ``pre_norm`` of the backbone
    are OmniVec's encoders and projections, so the stem built by the parent is dropped here.

    Args:
        arch: As ``M2PTVisionTransformer`` (``'base'``, or a dict).
        with_cls_token: Whether the projections put the class token in front of the tokens.
        final_norm: Apply ``ln1`` after the last block.
        **kwargs: ``M2PTVisionTransformer``'s block options (``qkv_bias``, ``norm_cfg``,
            ``drop_path_rate``, ``layer_scale_init_value``, ``pathway``, ...).
    """

    def __init__(self, arch: Union[str, dict] = 'base', with_cls_token: bool = True,
                 final_norm: bool = True, **kwargs: Any) -> None:
        given = sorted(set(kwargs) & set(_NOT_TRUNK_OPTIONS))
        if given:
            raise ValueError(f'OmniVecTrunk takes no {given}: tokenizers and positions belong to '
                             'the encoders, the pre-norm to the projections, outputs to the heads')
        # the cheapest stem (1×1 patches of a 1×1 image), dropped right after
        super().__init__(arch=arch, img_size=1, patch_size=1, in_channels=1, out_type='featmap',
                         with_cls_token=with_cls_token, final_norm=final_norm, **kwargs)
        self.patch_embed = None
        self.pos_embed = None
        self.patch_resolution = None

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
        x = self.drop_after_pos(x)
        outs = []
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x) if key_padding_mask is None else run_block_with_key_padding(
                layer, x, key_padding_mask)
            if i == last and self.final_norm:
                x = self.ln1(x)
            outs.append(x)
        return outs

    def featmap(self, x: Tensor, grid: TokenGrid) -> Tensor:
        """A block output as a feature map: ``[B, D, h, w]``, ``[B, D, t, h, w]`` (video),
        ``[B, D, G]`` (point groups) or ``[B, D, L]`` (text)."""
        return self._format_output(x, grid)

    def forward_with_grid(self, x: Tensor) -> None:
        raise TypeError('OmniVecTrunk has no tokenizer: call it on projected tokens (OmniVec), '
                        'or export a single modality to an M2PTVisionTransformer')
