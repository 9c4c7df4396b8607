"""Image tokenizer: non-overlapping patches projected to tokens (ViT)."""
from typing import Optional, Sequence, Tuple, Union

from mmcv.cnn.bricks.transformer import PatchEmbed
from mmengine.utils import to_2tuple
from torch import Tensor

from m2pt_mm.registry import TOKENIZERS

from .base import BaseTokenizer, InputSize, TokenizerFold, fold_patch_embed


@TOKENIZERS.register_module()
class ImageTokenizer(PatchEmbed, BaseTokenizer):
    """Split an image into ``patch_size`` patches and project each to ``embed_dims``.

    It is mmcv's ``PatchEmbed`` (parameters ``projection.weight/bias``, the names of mmpretrain's
    ViT), with adaptive corner padding so any input size works, and a clear error on a tensor that
    is not an image batch. Its positions are the host's learned table on its ``(h, w)`` grid.

    Args:
        embed_dims: Token width.
        in_channels: Image channels.
        img_size: The expected input size; sets the position-embedding grid.
        patch_size: Patch side (patches are square).
        bias: Whether the projection has a bias.
        norm_cfg: Optional norm after the projection.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 in_channels: int = 3,
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: int = 16,
                 bias: bool = True,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(in_channels=in_channels, embed_dims=embed_dims, conv_type='Conv2d',
                         kernel_size=patch_size, stride=patch_size, input_size=img_size, bias=bias,
                         norm_cfg=norm_cfg, init_cfg=init_cfg)
        self.in_channels = in_channels

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects images of shape '
                             f'(B, {self.in_channels}, H, W), got {tuple(x.shape)}')
        return super().forward(x)

    def input_shape(self, size: InputSize = None) -> Optional[Tuple[int, int, int]]:
        """``(C, H, W)`` for ``size`` ``H`` or ``(H, W)``; None: the configured ``img_size``."""
        if size is None:
            if self.init_input_size is None:
                return None
            size = self.init_input_size
        return (self.in_channels, *(int(n) for n in to_2tuple(size)))

    def fold(self, A: Tensor, c: Tensor, input_shape: Sequence[int]) -> TokenizerFold:
        """The patch projection followed by ``A·t + c``, for images of ``input_shape``."""
        channels, height, width = (int(n) for n in input_shape)
        return fold_patch_embed(self, A, c, input_shape, dict(
            type='ImageTokenizer', in_channels=channels, img_size=(height, width)))
