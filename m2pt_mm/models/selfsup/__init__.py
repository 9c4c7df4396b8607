"""MAE-style masked-token pretraining for every tokenizer, producing checkpoints whose
``backbone.*`` keys are those of ``M2PTVisionTransformer`` (readable as aux or target)."""
from .m2pt_mae import M2PTMAE, M2PTMAEViT
from .reconstruction import (
    ChamferDistanceL2,
    M2PTMAEDecoder,
    M2PTMAEHead,
    PointMAEHead,
    chamfer_distance_l2,
)

__all__ = ['M2PTMAEViT', 'M2PTMAE', 'M2PTMAEDecoder', 'M2PTMAEHead', 'PointMAEHead',
           'ChamferDistanceL2', 'chamfer_distance_l2']
