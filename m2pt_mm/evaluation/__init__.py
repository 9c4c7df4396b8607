"""Metrics the libraries lack, registered into mmpretrain's ``METRICS`` (import this package or
list ``'m2pt_mm.evaluation'`` in ``custom_imports``).

Classification metrics are mmpretrain's own: ``AveragePrecision`` (AudioSet mAP), ``Accuracy``
(ESC-50, ModelNet40 overall accuracy, Kinetics ``topk=(1, 5)``).
"""
from .part_seg import PartNetMIoU, ShapeNetPartMIoU

__all__ = ['ShapeNetPartMIoU', 'PartNetMIoU']
