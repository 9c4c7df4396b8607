"""Audio tokenizer: a log-mel spectrogram seen as a 1-channel image, cut into patches (AudioMAE)."""
from typing import Optional, Sequence, Tuple

import torch
from mmcv.cnn.bricks.transformer import PatchEmbed
from torch import Tensor

from m2pt_mm.registry import TOKENIZERS

from .base import BaseTokenizer, InputSize, MaskDefaults, TokenizerFold, fold_patch_embed


@TOKENIZERS.register_module()
class AudioTokenizer(PatchEmbed, BaseTokenizer):
    """Split a log-mel filterbank into ``patch_size`` patches and project each to ``embed_dims``.

    The input orientation is AudioMAE's: ``(B, 1, T, F)``, time frames first, mel bins last
    (1024 × 128 for AudioSet), so the tokens are time-major on a ``(T/16, F/16) = (64, 8)`` grid,
    the order of AudioMAE's position table. The parameters are ``projection.weight/bias`` (the
    names of the image tokenizer), so AudioMAE's ``patch_embed.proj`` [D, 1, 16, 16] converts with
    the timm-family converter. The fbank itself is computed by a data transform, not here.

    AudioMAE's fine-tuning options: token masking (:meth:`mask_tokens`, which the backbone calls
    after adding the positions) and the frozen sin-cos table (``sincos_pos_embed``:
    ``host_pos_embed='sincos'``, the backbone fills its ``pos_embed`` with it and freezes it).
    Masked pretraining defaults to AudioMAE's: 80 % of the tokens, unstructured.

    Args:
        embed_dims: Token width.
        num_frames: Time frames of the expected input; with ``num_mel_bins`` it sets the
            position-embedding grid (other lengths get a resized table).
        num_mel_bins: Mel bins (the last input axis); fixed, it identifies the modality.
        patch_size: Patch side (patches are square, non-overlapping).
        bias: Whether the projection has a bias.
        norm_cfg: Optional norm after the projection.
        mask_t_prob: Fraction of time columns of the token grid dropped in training (AudioMAE's
            fine-tuning ``mask_t_prob``, 0.2 on AudioSet); 0 keeps all.
        mask_f_prob: Fraction of frequency rows dropped in training (``mask_f_prob``, 0.2).
        sincos_pos_embed: The backbone's position table is AudioMAE's fixed 2-D sin-cos table of
            the token grid, not trained (``requires_grad=False``); a loaded checkpoint's table
            (AudioMAE's is that table) still replaces it.
        init_cfg: Initialisation config.
    """

    mask_defaults = MaskDefaults(0.8, 'random', 'keep')

    def __init__(self,
                 embed_dims: int,
                 num_frames: int = 1024,
                 num_mel_bins: int = 128,
                 patch_size: int = 16,
                 bias: bool = True,
                 norm_cfg: Optional[dict] = None,
                 mask_t_prob: float = 0.,
                 mask_f_prob: float = 0.,
                 sincos_pos_embed: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        bad = {k: p for k, p in (('mask_t_prob', mask_t_prob), ('mask_f_prob', mask_f_prob))
               if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0. <= p < 1.}
        if bad:
            raise ValueError(f'token masking probabilities must be in [0, 1), got {bad}')
        if num_mel_bins % patch_size:
            raise ValueError(f'num_mel_bins ({num_mel_bins}) must be a multiple of patch_size '
                             f'({patch_size}): the frequency axis is never padded')
        super().__init__(in_channels=1, embed_dims=embed_dims, conv_type='Conv2d',
                         kernel_size=patch_size, stride=patch_size,
                         input_size=(num_frames, num_mel_bins), bias=bias, norm_cfg=norm_cfg,
                         init_cfg=init_cfg)
        self.num_mel_bins = num_mel_bins
        self.mask_t_prob, self.mask_f_prob = float(mask_t_prob), float(mask_f_prob)
        self.host_pos_embed = 'sincos' if sincos_pos_embed else 'learned'

    def forward(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        """``(B, 1, T, F)`` → tokens ``(B, T/p · F/p, D)`` and the grid ``(T/p, F/p)``."""
        if x.dim() != 4 or x.shape[1] != 1 or x.shape[3] != self.num_mel_bins:
            raise ValueError(f'{type(self).__name__} expects log-mel spectrograms of shape '
                             f'(B, 1, T, {self.num_mel_bins}) (time frames, then mel bins, as '
                             f'AudioMAE), got {tuple(x.shape)}')
        return super().forward(x)

    def input_shape(self, size: InputSize = None) -> Tuple[int, int, int]:
        """``(1, T, F)`` for ``size`` ``T`` time frames; None: the configured ``num_frames``."""
        frames = self.init_input_size[0] if size is None else int(size)
        return 1, frames, self.num_mel_bins

    def fold(self, A: Tensor, c: Tensor, input_shape: Sequence[int]) -> TokenizerFold:
        """The patch projection followed by ``A·t + c``, for spectrograms of ``input_shape``."""
        _, frames, bins = (int(n) for n in input_shape)
        return fold_patch_embed(self, A, c, input_shape,
                                dict(type='AudioTokenizer', num_frames=frames, num_mel_bins=bins))

    def grid_for_length(self, num_tokens: int) -> Optional[Tuple[int, int]]:
        """The token grid a position table of ``num_tokens`` entries was made for (None when
        none fits).

        The mel axis is fixed, so only the time axis can differ (e.g. a 1024-frame AudioSet
        table loaded for 512-frame ESC-50 clips); a square-grid guess would be wrong.
        """
        freq = self.init_out_size[1]
        if num_tokens <= 0 or num_tokens % freq:
            return None
        return num_tokens // freq, freq

    def mask_tokens(self,
                    x: Tensor,
                    grid: Tuple[int, int],
                    num_extra_tokens: int = 0,
                    generator: Optional[torch.Generator] = None) -> Tuple[Tensor, Tuple[int, int]]:
        """AudioMAE's fine-tuning token masking (``random_masking_2d``), in training only.

        Each sample keeps ``int(T·(1-mask_t_prob))`` of the ``T`` time columns and
        ``int(F·(1-mask_f_prob))`` of the ``F`` frequency rows of its token grid, drawn at random
        (64 × 8 → 51 × 6 at 0.2), and drops every other token; the extra tokens (class token)
        stay. Called after the position embedding is added, as AudioMAE, so a kept token keeps
        its position. The kept columns and rows stay in grid order (AudioMAE keeps them in drawn
        order; blocks and mean pooling do not see the order).

        Args:
            x: ``[B, extra + T·F, D]``, time-major.
            grid: ``(T, F)``.
            num_extra_tokens: Leading tokens that are not on the grid.
            generator: For the random draws (time first, then frequency).

        Returns:
            The kept tokens ``[B, extra + T'·F', D]`` and their grid ``(T', F')``.
        """
        if not self.training or not (self.mask_t_prob or self.mask_f_prob):
            return x, grid
        steps, bins = grid
        batch, length, dims = x.shape
        if length != num_extra_tokens + steps * bins:
            raise ValueError(f'{length} tokens do not fit {num_extra_tokens} extra tokens and '
                             f'the grid {tuple(grid)}')
        keep_t, keep_f = int(steps * (1 - self.mask_t_prob)), int(bins * (1 - self.mask_f_prob))
        if keep_t < 1 or keep_f < 1:
            raise ValueError(f'token masking ({self.mask_t_prob}, {self.mask_f_prob}) keeps no '
                             f'token of the {steps} × {bins} grid')

        def kept(n: int, keep: int) -> Tensor:
            noise = torch.rand(batch, n, generator=generator, device=generator.device
                               if generator is not None else x.device)
            return noise.argsort(dim=1)[:, :keep].sort(dim=1).values.to(x.device)

        times, freqs = kept(steps, keep_t), kept(bins, keep_f)
        index = (times[:, :, None] * bins + freqs[:, None, :]).flatten(1)  # [B, T'·F']
        tokens = x[:, num_extra_tokens:].gather(1, index[..., None].expand(-1, -1, dims))
        return torch.cat((x[:, :num_extra_tokens], tokens), dim=1), (keep_t, keep_f)
