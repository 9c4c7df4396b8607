"""The tokenizer contract: what a host (``M2PTVisionTransformer``, OmniVec's encoder, MAE
pretraining, export) may ask of every tokenizer, so that it never asks what type one is."""
import math
from abc import abstractmethod
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..utils import TokenGrid

#: Where a token's position comes from, one spelling everywhere: a learned table of the host on
#: the tokenizer's grid, the host's fixed 2-D sin-cos table (MAE), or none in the host (the
#: tokenizer adds its own, :meth:`BaseTokenizer.position_embedding`).
HOST_POS_EMBEDS = ('learned', 'sincos', 'none')
#: An input size as :meth:`BaseTokenizer.input_shape` takes it.
InputSize = Union[None, int, Sequence[int]]


class MaskDefaults(NamedTuple):
    """Masked pretraining as the tokenizer's base method does it (``M2PTMAEViT``'s defaults).

    Attributes:
        ratio: Fraction of the tokens masked.
        mode: ``'random'`` (every token alone, MAE) or ``'tube'`` (one spatial mask for every
            time step of a ``(t, h, w)`` grid, VideoMAE).
        count: ``'keep'``: ``int(n·(1-r))`` tokens stay visible (MAE, AudioMAE); ``'mask'``:
            ``int(r·n)`` are masked (VideoMAE, Point-MAE), e.g. 20, not 19, of 196 at 0.9.
    """

    ratio: float
    mode: str
    count: str


class TokenizerFold(NamedTuple):
    """A tokenizer whose tokens are ``A·t + c`` (see :meth:`BaseTokenizer.fold`).

    Attributes:
        cfg: ``dict(type=..., ...)`` of the folded tokenizer, ``embed_dims`` left to the host.
        state_dict: Its weights (no prefix); it loads them with ``strict=True``.
        vit_patch_cfg: ``img_size``, ``patch_size`` and ``in_channels`` of mmpretrain's
            ``VisionTransformer`` when the folded tokenizer is its conv patch embedding
            (``projection.*`` only), else None.
    """

    cfg: dict
    state_dict: Dict[str, Tensor]
    vit_patch_cfg: Optional[dict] = None


def fold_projection(projection: nn.Module, A: Tensor, c: Tensor) -> Dict[str, Tensor]:
    """``projection.weight/bias`` of a linear or conv layer followed by ``y ↦ A·y + c``.

    Args:
        projection: A layer whose weight has its output channels first ``[E, ...]``.
        A: ``[D, E]``.
        c: ``[D]``.
    """
    weight = torch.einsum('de,e...->d...', A, projection.weight)
    bias = c if projection.bias is None else A @ projection.bias + c
    return {'projection.weight': weight.detach().clone(), 'projection.bias': bias.detach().clone()}


def fold_patch_embed(patch_embed: nn.Module, A: Tensor, c: Tensor, input_shape: Sequence[int],
                     cfg: dict) -> TokenizerFold:
    """:meth:`BaseTokenizer.fold` of an mmcv ``PatchEmbed`` (a 2-D conv, image-like input).

    Args:
        patch_embed: The tokenizer.
        A: ``[D, E]``.
        c: ``[D]``.
        input_shape: ``(C, H, W)``.
        cfg: The folded tokenizer's config without ``patch_size`` and ``bias`` (added here).
    """
    if patch_embed.norm is not None:
        raise ValueError('a tokenizer with a norm after its projection (norm_cfg) does not fold')
    channels, height, width = (int(n) for n in input_shape)
    patch = patch_embed.projection.kernel_size[0]
    vit = dict(img_size=(height, width), patch_size=patch, in_channels=channels)
    with torch.no_grad():
        state = fold_projection(patch_embed.projection, A, c)
    return TokenizerFold(dict(cfg, patch_size=patch, bias=True), state, vit)


class BaseTokenizer(BaseModule):
    """The contract of a tokenizer: input ``→ (tokens [B, N, D], grid)`` plus what hosts ask.

    A subclass implements :meth:`forward`, :meth:`input_shape` and :meth:`fold`, sets
    ``init_out_size`` (the token grid of the configured input: ``(h, w)``, ``(t, h, w)`` or
    ``(n, )``) and, where its method differs from plain ViT / MAE, overrides the class
    attributes and the methods with a default below. Registered with
    ``@TOKENIZERS.register_module()``, it is then usable by every host.

    Attributes:
        init_out_size: The token grid of the configured input size.
        host_pos_embed: One of :data:`HOST_POS_EMBEDS`: the host's learned or fixed sin-cos
            table on ``init_out_size`` (a 2-D grid), or ``'none'`` when the tokenizer adds its
            own (:meth:`position_embedding`).
        pos_every_block: The host re-adds the positions before every block (Point-MAE), not
            once before the first.
        mask_defaults: Masked pretraining of the tokenizer's base method (MAE's by default).
        vocab_size: The number of token ids of a tokenizer of discrete ids (text), which a
            prediction head over them needs; None for the others.
    """

    init_out_size: Tuple[int, ...]
    vocab_size: Optional[int] = None
    host_pos_embed: str = 'learned'
    pos_every_block: bool = False
    mask_defaults: MaskDefaults = MaskDefaults(0.75, 'random', 'keep')

    @abstractmethod
    def forward(self, x: Tensor) -> Tuple[Tensor, TokenGrid]:
        """Input batch → tokens ``[B, N, D]`` and their grid (or :class:`PointCentres`).

        Raises:
            ValueError: ``x`` is not of this modality; the message names the expected shape.
        """

    @abstractmethod
    def input_shape(self, size: InputSize = None) -> Optional[Tuple[int, ...]]:
        """One sample's input shape for ``size`` (no batch axis).

        Args:
            size: The modality's size (image: side or ``(h, w)``; audio: frames; video:
                ``(frames, h, w)``; point cloud: points; text: length); None: the configured one.

        Returns:
            The shape, or None when ``size`` is None and the tokenizer fixes no size (a point
            cloud's number of points).
        """

    @abstractmethod
    def fold(self, A: Tensor, c: Tensor, input_shape: Sequence[int]) -> TokenizerFold:
        """This tokenizer followed by the linear map ``t ↦ A·t + c`` as one tokenizer (the
        export of an OmniVec encoder and projection, as ``fuse()`` on a pathway layer).

        The folded tokenizer returns ``A·t + c`` for the tokens ``t`` of an input of
        ``input_shape``; positions of its own become ``A·p`` (a host table is the host's to
        fold).

        Args:
            A: ``[D, E]`` (E: this tokenizer's width, D: the folded one's).
            c: ``[D]``.
            input_shape: One sample's input shape the fold is made for.

        Raises:
            ValueError: a tokenizer whose layers do not commute with a linear map.
        """

    def position_embedding(self, grid: TokenGrid) -> Tensor:
        """``[1 or B, N, D]`` positions of the tokens of ``grid``, for ``host_pos_embed='none'``.

        Raises:
            TypeError: the positions are the host's table (``host_pos_embed`` is not 'none').
        """
        raise TypeError(f'{type(self).__name__} adds no positions of its own: its host holds a '
                        f'{self.host_pos_embed!r} table on its grid (host_pos_embed)')

    def grid_for_length(self, num_tokens: int) -> Optional[Tuple[int, ...]]:
        """The grid a position table of ``num_tokens`` rows (extra tokens excluded) was made
        for, None when no grid of this tokenizer has that many cells.

        By default: this tokenizer's grid for its own length, else a square for a 2-D grid (the
        convention of ViT checkpoints) and ``(n, )`` for a 1-D one.
        """
        if num_tokens == math.prod(self.init_out_size):
            return tuple(self.init_out_size)
        if len(self.init_out_size) == 1:
            return (num_tokens, ) if num_tokens > 0 else None
        side = math.isqrt(max(num_tokens, 0))
        if len(self.init_out_size) == 2 and num_tokens > 0 and side * side == num_tokens:
            return side, side
        return None

    def mask_tokens(self,
                    x: Tensor,
                    grid: TokenGrid,
                    num_extra_tokens: int = 0,
                    generator: Optional[torch.Generator] = None) -> Tuple[Tensor, TokenGrid]:
        """Tokens dropped in fine-tuning after the positions are added (AudioMAE); by default
        none: ``(x, grid)`` unchanged.

        Args:
            x: ``[B, extra + N, D]``.
            grid: The grid of the ``N`` tokens.
            num_extra_tokens: Leading tokens not on the grid (class token).
            generator: For random draws.
        """
        return x, grid

    def key_padding_mask(self, x: Tensor) -> Optional[Tensor]:
        """``[B, N]`` True at tokens of ``x`` that are padding (no token attends to them); None
        when every token is real (the default)."""
        return None
