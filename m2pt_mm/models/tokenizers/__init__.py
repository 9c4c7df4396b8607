"""Modality tokenizers: each turns its input into ``(tokens [B, N, D], grid)`` for the blocks.

Every tokenizer implements :class:`BaseTokenizer` (``base.py``), the contract its hosts use: the
input shape for a size, the token grid and where positions come from (``host_pos_embed``), masking
defaults, the padding mask and its export fold. The grid is the token lattice (``(h, w)`` for
images and spectrograms, ``(t, h, w)`` for video, ``(L, )`` for text); point clouds have no
lattice: their tokenizer returns the group centres as :class:`~m2pt_mm.models.utils.PointCentres`
in its place.
"""
import importlib
import pkgutil

from .audio import AudioTokenizer
from .base import HOST_POS_EMBEDS, BaseTokenizer, MaskDefaults, TokenizerFold
from .image import ImageTokenizer
from .point import PointTokenizer
from .text import TextTokenizer
from .video import VideoTokenizer

# a new tokenizer is one file: importing each module here registers what it defines
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f'{__name__}.{_module.name}')

__all__ = ['BaseTokenizer', 'MaskDefaults', 'TokenizerFold', 'HOST_POS_EMBEDS', 'ImageTokenizer',
           'AudioTokenizer', 'VideoTokenizer', 'PointTokenizer', 'TextTokenizer']
