"""Modality tokenizers: each turns its input into ``(tokens [B, N, D], grid)`` for the blocks."""
from .image import ImageTokenizer

__all__ = ['ImageTokenizer']
