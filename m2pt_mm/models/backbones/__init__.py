from .m2pt_vit import M2PTVisionTransformer

__all__ = ['M2PTVisionTransformer']
