"""Point-cloud part segmentation (ShapeNetPart, PartNet): an M2PT point backbone and a Point-MAE
part-segmentation head as one mmengine model."""
from typing import List, Optional, Sequence, Tuple, Union

from mmengine.model import BaseModel
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..utils import PointCentres


@MODELS.register_module()
class PointPartSegmentor(BaseModel):
    """Backbone (block outputs + group centres) → :class:`PointPartSegHead` → per-point logits.

    The backbone must provide ``forward_with_grid`` (``M2PTVisionTransformer`` with a
    ``PointTokenizer``) and give ``[B, D, G]`` maps (``out_type='featmap'``; Point-MAE reads
    blocks 3, 7, 11 through the final norm: ``out_indices=(3, 7, 11)``, ``norm_outs=True``).

    Inputs are point clouds ``[B, N, 3 | 6]``; data samples carry ``gt_seg_label`` ``(N,)`` and,
    for a head with ``num_categories`` (ShapeNetPart), the object category as ``gt_label``.
    :meth:`predict` sets ``pred_seg_score`` ``(N, num_classes)`` (logits) and ``pred_seg_label``
    ``(N,)``, which ``ShapeNetPartMIoU`` / ``PartNetMIoU`` read.

    Args:
        backbone: Backbone config (mmpretrain registry).
        head: ``PointPartSegHead`` config; its ``in_channels`` defaults to the backbone's width
            and ``num_feats`` to the number of ``out_indices``.
        data_preprocessor: Default mmpretrain's ``ClsDataPreprocessor`` without normalisation,
            which stacks equal-sized clouds to ``[B, N, C]`` and batches ``gt_label``.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'mmpretrain.ClsDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if not hasattr(self.backbone, 'forward_with_grid'):
            raise TypeError(f'{type(self).__name__} needs a backbone with forward_with_grid() '
                            f'(group centres), got {type(self.backbone).__name__}')
        if getattr(self.backbone, 'out_type', 'featmap') != 'featmap':
            raise ValueError(f"{type(self).__name__} needs the backbone's out_type='featmap' "
                             f'([B, D, G] group features), got {self.backbone.out_type!r}')
        head = dict(head)
        head.setdefault('in_channels', self.backbone.embed_dims)
        head.setdefault('num_feats', len(self.backbone.out_indices))
        self.head = MODELS.build(head)

    def extract_feat(self, inputs: Tensor) -> Tuple[Tuple[Tensor, ...], Tensor]:
        """Block outputs ``[B, D, G]`` and the group centres ``[B, G, 3]``."""
        feats, positions = self.backbone.forward_with_grid(inputs)
        if not isinstance(positions, PointCentres):
            raise TypeError(f'{type(self).__name__} needs a point tokenizer (PointCentres from '
                            f'forward_with_grid), got the token grid {positions!r}')
        return feats, positions.centres

    def _logits(self, inputs: Tensor, data_samples: Optional[Sequence[DataSample]]) -> Tensor:
        feats, centres = self.extract_feat(inputs)
        return self.head(feats, centres, inputs, self.head.categories(data_samples, inputs.device))

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor') -> Union[Tensor, dict, List[DataSample]]:
        """``'tensor'``: logits ``[B, num_classes, N]``; ``'loss'``: a dict of losses;
        ``'predict'``: the data samples with ``pred_seg_score`` / ``pred_seg_label``."""
        if mode == 'tensor':
            return self._logits(inputs, data_samples)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}": expected "tensor", "loss" or "predict"')

    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> dict:
        """Per-point cross-entropy against every sample's ``gt_seg_label``."""
        labels = self.head.seg_labels(data_samples, inputs.device)
        return self.head.loss(self._logits(inputs, data_samples), labels)

    def predict(self, inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None) -> List[DataSample]:
        """Fill ``pred_seg_score`` (``(N, num_classes)`` logits) and ``pred_seg_label``."""
        logits = self._logits(inputs, data_samples)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(logits.shape[0])]
        return self.head.set_predictions(logits, data_samples)
