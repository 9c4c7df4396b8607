"""m2pt_mm: Multimodal Pathway (M2PT, CVPR 2024) on the OpenMMLab stack.

``m2pt_mm.pathway`` is the method in plain PyTorch; ``m2pt_mm.models`` registers the backbone and
tokenizers into mmpretrain's registry (import it, or list it in ``custom_imports``).
"""
from .version import __version__

__all__ = ['__version__']
