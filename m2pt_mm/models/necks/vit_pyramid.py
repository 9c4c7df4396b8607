"""ViT → feature pyramid for detection: mmseg's ``Feature2Pyramid`` rescaling, then mmdet's
``FPN``."""
from typing import List, Optional, Sequence, Tuple

from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor

#: The rescale sets mmseg's ``Feature2Pyramid`` implements (its forward assumes one of them).
_RESCALES = ((4, 2, 1, 0.5), (2, 1, 0.5, 0.25))


@MODELS.register_module()
class ViTPyramidNeck(BaseModule):
    """Turn single-scale ViT feature maps (stride = patch size) into a detection pyramid.

    Two modes, chosen by how many maps the backbone gives (its ``out_indices``):

    * one map (e.g. ``out_indices=(11,)``): ViTDet's *simple feature pyramid*, every level is
      rescaled from the last block;
    * ``len(rescales)`` maps (e.g. ``out_indices=(3, 5, 7, 11)``): level ``i`` comes from map ``i``,
      as in mmseg's MAE/BEiT recipes.

    The rescaling (×4 / ×2 / ×1 / ×½ by transposed convs and max-pool) is mmseg's
    ``Feature2Pyramid``; the lateral/output convs and the extra max-pooled level are mmdet's
    ``FPN``, whose input widths follow from ``in_channels`` (the backbone's ``embed_dims``).
    Registered in mmpretrain's registry like the backbone: det/seg configs say
    ``type='mmpretrain.ViTPyramidNeck'``.

    Args:
        in_channels: Width of the backbone's maps (its ``embed_dims``). Checked on every call.
        out_channels: Width of every pyramid level (the heads' ``in_channels``).
        rescales: Scale factor of each level relative to the ViT map.
        num_outs: Number of levels out; more than ``len(rescales)`` adds max-pooled levels.
        norm_cfg: Norm inside the ×4 upsampling (``SyncBN`` for multi-GPU training).
        fpn_norm_cfg: Norm of the FPN convs (None: plain convs with bias, as mmdet's FPN).
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 256,
                 rescales: Sequence[float] = (4, 2, 1, 0.5),
                 num_outs: int = 5,
                 norm_cfg: dict = dict(type='SyncBN', requires_grad=True),
                 fpn_norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if tuple(rescales) not in _RESCALES:
            raise ValueError(f'ViTPyramidNeck.rescales must be one of {list(_RESCALES)}, '
                             f'got {list(rescales)}')
        if num_outs < len(rescales):
            raise ValueError(f'num_outs ({num_outs}) must be >= len(rescales) ({len(rescales)})')
        # imported here, not at module load: classification, audio and point runs never need
        # mmdet or mmseg, and importing both costs seconds per process
        from mmdet.models.necks import FPN
        from mmseg.models.necks import Feature2Pyramid
        self.in_channels = in_channels
        self.rescales = list(rescales)
        self.rescale = Feature2Pyramid(in_channels, self.rescales, norm_cfg=norm_cfg)
        self.fpn = FPN([in_channels] * len(self.rescales), out_channels, num_outs,
                       norm_cfg=fpn_norm_cfg)

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        inputs = self._check(inputs)
        return self.fpn(list(self.rescale(inputs)))

    def _check(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        inputs = list(inputs)
        if len(inputs) == 1:
            inputs = inputs * len(self.rescales)
        elif len(inputs) != len(self.rescales):
            raise ValueError(f'ViTPyramidNeck got {len(inputs)} feature maps; expected 1 (simple '
                             f'pyramid from the last block) or {len(self.rescales)} (one per '
                             f'rescale {self.rescales}): check the backbone out_indices')
        for i, x in enumerate(inputs):
            if x.dim() != 4 or x.shape[1] != self.in_channels:
                raise ValueError(
                    f'ViTPyramidNeck.in_channels is {self.in_channels} but feature map {i} has '
                    f'shape {tuple(x.shape)}; expected (B, {self.in_channels}, H, W): set the '
                    "neck's in_channels to the backbone's embed_dims and its out_type='featmap'")
        return inputs
