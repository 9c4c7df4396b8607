"""Metrics the libraries lack, registered into mmpretrain's ``METRICS`` (import this package or
list ``'m2pt_mm.evaluation'`` in ``custom_imports``).

Classification metrics are mmpretrain's own: ``AveragePrecision`` (AudioSet mAP), ``Accuracy``
(ESC-50, ModelNet40 overall accuracy, Kinetics ``topk=(1, 5)``). ``TaskMetric`` runs one of them on
the samples of one task of a multi-task (OmniVec) validation set.
"""
from .part_seg import PartNetMIoU, ShapeNetPartMIoU
from .task_metric import TaskMetric

__all__ = ['ShapeNetPartMIoU', 'PartNetMIoU', 'TaskMetric']
