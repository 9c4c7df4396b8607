"""Audio tokenizer: a log-mel spectrogram seen as a 1-channel image, cut into patches (AudioMAE)."""
from typing import Optional, Tuple

from mmcv.cnn.bricks.transformer import PatchEmbed
from torch import Tensor

from m2pt_mm.registry import TOKENIZERS


@TOKENIZERS.register_module()
class AudioTokenizer(PatchEmbed):
    """Split a log-mel filterbank into ``patch_size`` patches and project each to ``embed_dims``.

    The input orientation is AudioMAE's: ``(B, 1, T, F)``, time frames first, mel bins last
    (1024 × 128 for AudioSet), so the tokens are time-major on a ``(T/16, F/16) = (64, 8)`` grid,
    the order of AudioMAE's position table. The parameters are ``projection.weight/bias`` (the
    names of the image tokenizer), so AudioMAE's ``patch_embed.proj`` [D, 1, 16, 16] converts with
    the timm-family converter. The fbank itself is computed by a data transform, not here.

    Args:
        embed_dims: Token width.
        num_frames: Time frames of the expected input; with ``num_mel_bins`` it sets the
            position-embedding grid (other lengths get a resized table).
        num_mel_bins: Mel bins (the last input axis); fixed, it identifies the modality.
        patch_size: Patch side (patches are square, non-overlapping).
        bias: Whether the projection has a bias.
        norm_cfg: Optional norm after the projection.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_frames: int = 1024,
                 num_mel_bins: int = 128,
                 patch_size: int = 16,
                 bias: bool = True,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if num_mel_bins % patch_size:
            raise ValueError(f'num_mel_bins ({num_mel_bins}) must be a multiple of patch_size '
                             f'({patch_size}): the frequency axis is never padded')
        super().__init__(in_channels=1, embed_dims=embed_dims, conv_type='Conv2d',
                         kernel_size=patch_size, stride=patch_size,
                         input_size=(num_frames, num_mel_bins), bias=bias, norm_cfg=norm_cfg,
                         init_cfg=init_cfg)
        self.num_mel_bins = num_mel_bins

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        """``(B, 1, T, F)`` → tokens ``(B, T/p · F/p, D)`` and the grid ``(T/p, F/p)``."""
        if x.dim() != 4 or x.shape[1] != 1 or x.shape[3] != self.num_mel_bins:
            raise ValueError(f'{type(self).__name__} expects log-mel spectrograms of shape '
                             f'(B, 1, T, {self.num_mel_bins}) (time frames, then mel bins, as '
                             f'AudioMAE), got {tuple(x.shape)}')
        return super().forward(x)

    def grid_for_length(self, num_tokens: int) -> Tuple[int, int]:
        """The token grid a position table of ``num_tokens`` entries was made for.

        The mel axis is fixed, so only the time axis can differ (e.g. a 1024-frame AudioSet
        table loaded for 512-frame ESC-50 clips); a square-grid guess would be wrong.
        """
        freq = self.init_out_size[1]
        if num_tokens % freq:
            raise ValueError(f'a position table of {num_tokens} patch tokens does not fit '
                             f'{freq} mel patches per frame ({self.num_mel_bins} mel bins)')
        return num_tokens // freq, freq
