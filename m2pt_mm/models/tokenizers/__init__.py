"""Modality tokenizers: each turns its input into ``(tokens [B, N, D], grid)`` for the blocks.

The grid is the token lattice (``(h, w)`` for images and spectrograms, ``(t, h, w)`` for video,
``(L, )`` for text); point clouds have no lattice: their tokenizer returns the group centres as
:class:`~m2pt_mm.models.utils.PointCentres` in its place. Tokenizers with a ``position_embedding``
method own their position embedding (video sin-cos, point MLP, text table); the backbone then
has no table.
"""
from .audio import AudioTokenizer
from .image import ImageTokenizer
from .point import PointTokenizer
from .text import TextTokenizer
from .video import VideoTokenizer

__all__ = ['ImageTokenizer', 'AudioTokenizer', 'VideoTokenizer', 'PointTokenizer', 'TextTokenizer']
