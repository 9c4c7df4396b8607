"""Necks that connect the M2PT ViT to the detection and segmentation libraries."""
from .vit_pyramid import ViTPyramidNeck

__all__ = ['ViTPyramidNeck']
