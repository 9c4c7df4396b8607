"""Part-segmentation metrics: ShapeNetPart class/instance mIoU and PartNet part-category mIoU.

Both read, per data sample, ``gt_seg_label`` (``(N,)`` long) and either ``pred_seg_score``
(``(N, num_parts)`` logits or probabilities) or ``pred_seg_label`` (``(N,)`` long). Per-shape IoUs
are computed in ``process`` so that no per-point tensor is kept for the whole test set.
"""
from collections import OrderedDict, defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from m2pt_mm.datasets.categories import SHAPENETPART_SEG_CLASSES


def _as_long(value, name: str) -> torch.Tensor:
    value = torch.as_tensor(value).cpu()
    if value.dim() != 1:
        raise ValueError(f'{name} must have shape (N,), got {tuple(value.shape)}')
    return value.long()


def _intersect_and_union(pred: torch.Tensor, gt: torch.Tensor, num_classes: int,
                         ignore_index: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Per-label point counts of intersection and union ``(num_classes,)`` (float64), by mmseg's
    ``IoUMetric.intersect_and_union``; points whose ground truth is ``ignore_index`` are left
    out, and so are predicted labels outside ``[0, num_classes)``."""
    # lazy: every run imports m2pt_mm.evaluation (custom_imports); only part seg. needs mmseg
    from mmseg.evaluation.metrics import IoUMetric
    ignore = -1 if ignore_index is None else ignore_index  # labels are >= 0
    inter, union, _, _ = IoUMetric.intersect_and_union(pred, gt, num_classes, ignore)
    return inter.double().numpy(), union.double().numpy()


def _prediction(sample: dict, num_points: int, allowed: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
    """Per-point prediction: the argmax of ``pred_seg_score`` over ``allowed`` labels, or
    ``pred_seg_label`` as it is."""
    if 'pred_seg_score' in sample:
        scores = torch.as_tensor(sample['pred_seg_score']).cpu()
        if scores.dim() != 2 or scores.shape[0] != num_points:
            raise ValueError(f'pred_seg_score must have shape ({num_points}, num_parts), got '
                             f'{tuple(scores.shape)}')
        if allowed is None:
            return scores.argmax(1)
        if int(allowed.max()) >= scores.shape[1]:
            raise ValueError(f'pred_seg_score has {scores.shape[1]} columns, but labels up to '
                             f'{int(allowed.max())} are needed')
        return allowed[scores[:, allowed].argmax(1)]
    if 'pred_seg_label' in sample:
        pred = _as_long(sample['pred_seg_label'], 'pred_seg_label')
        if pred.shape[0] != num_points:
            raise ValueError(f'pred_seg_label has {pred.shape[0]} points, gt_seg_label '
                             f'{num_points}')
        return pred
    raise KeyError(f'a data sample needs pred_seg_score or pred_seg_label, has '
                   f'{sorted(sample)}')


@METRICS.register_module()
class ShapeNetPartMIoU(BaseMetric):
    """ShapeNetPart class mIoU and instance mIoU, as Point-MAE / PointNet++ compute them.

    A shape's category is read from its ground truth (the category owning its part labels). With
    scores, the prediction is the argmax over that category's parts only. Shape IoU = mean over the
    category's parts of IoU(pred, gt), where a part absent from both counts 1. ``instance_mIoU`` =
    mean over all shapes; ``class_mIoU`` = mean over the categories present of their mean shape
    IoU. Values are percentages; ``accuracy`` is the per-point accuracy.

    Args:
        seg_classes: Category → part ids (default: the benchmark's 16 categories / 50 parts).
        classwise: Also report ``<Category>_mIoU``.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric name prefix (default ``'part-seg'``).
    """
    default_prefix: Optional[str] = 'part-seg'

    def __init__(self,
                 seg_classes: Optional[Dict[str, Sequence[int]]] = None,
                 classwise: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.seg_classes = OrderedDict(
            (name, torch.as_tensor(list(parts), dtype=torch.long))
            for name, parts in (seg_classes or SHAPENETPART_SEG_CLASSES).items())
        self.part_to_category: Dict[int, str] = {}
        for name, parts in self.seg_classes.items():
            for part in parts.tolist():
                if part in self.part_to_category:
                    raise ValueError(f'part {part} belongs to both {self.part_to_category[part]} '
                                     f'and {name}')
                self.part_to_category[part] = name
        self.num_parts = max(self.part_to_category) + 1
        self.classwise = classwise

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = _as_long(sample['gt_seg_label'], 'gt_seg_label')
            category = self.part_to_category.get(int(gt[0]))
            if category is None:
                raise ValueError(f'gt part label {int(gt[0])} belongs to no category of '
                                 f'{list(self.seg_classes)}')
            parts = self.seg_classes[category]
            stray = torch.unique(gt[~torch.isin(gt, parts)])
            if stray.numel():
                raise ValueError(f'a {category} shape has gt part labels {stray.tolist()} outside '
                                 f'its parts {parts.tolist()}')
            pred = _prediction(sample, gt.shape[0], parts)
            inter, union = _intersect_and_union(pred, gt, self.num_parts)
            # Point-MAE: a part absent from both prediction and ground truth scores 1
            ious = [1.0 if union[p] == 0 else inter[p] / union[p] for p in parts.tolist()]
            self.results.append(dict(category=category, iou=float(np.mean(ious)),
                                     correct=int((pred == gt).sum()), total=int(gt.shape[0])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        per_category = defaultdict(list)
        for result in results:
            per_category[result['category']].append(result['iou'])
        category_miou = OrderedDict((name, float(np.mean(per_category[name])))
                                    for name in self.seg_classes if name in per_category)
        metrics = dict(
            class_mIoU=100 * float(np.mean(list(category_miou.values()))),
            instance_mIoU=100 * float(np.mean([r['iou'] for r in results])),
            accuracy=100 * sum(r['correct'] for r in results) / sum(r['total'] for r in results))
        if self.classwise:
            metrics.update({f'{name}_mIoU': 100 * v for name, v in category_miou.items()})
        return metrics


@METRICS.register_module()
class PartNetMIoU(BaseMetric):
    """PartNet semantic-segmentation mIoU, as PartNet's benchmark code computes it.

    Points whose ground truth is ``ignore_index`` ("other", label 0) are left out; with scores, the
    prediction is the argmax over the other labels. ``mIoU`` is the part-category mIoU: for each
    part, intersection and union summed over all shapes, then IoU, then the mean over parts (a
    part that never occurs in prediction or ground truth is left out of the mean rather than
    giving NaN). ``shape_mIoU``: per shape, the mean IoU over the parts present in its prediction
    or ground truth, averaged over shapes. Values are percentages.

    Args:
        num_classes: Number of labels including "other"; needed when samples only have
            ``pred_seg_label`` (else taken from ``pred_seg_score``'s width).
        ignore_index: The "other" label, or None to score every label.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric name prefix (default ``'partnet'``).
    """
    default_prefix: Optional[str] = 'partnet'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: Optional[int] = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_classes, self.ignore_index = num_classes, ignore_index

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = _as_long(sample['gt_seg_label'], 'gt_seg_label')
            num_classes = self.num_classes
            if 'pred_seg_score' in sample:
                num_classes = torch.as_tensor(sample['pred_seg_score']).shape[-1]
                if self.num_classes is not None and num_classes != self.num_classes:
                    raise ValueError(f'pred_seg_score has {num_classes} columns, num_classes is '
                                     f'{self.num_classes}')
            if num_classes is None:
                raise ValueError('PartNetMIoU needs num_classes when samples carry only '
                                 'pred_seg_label')
            if int(gt.min()) < 0 or int(gt.max()) >= num_classes:
                raise ValueError(f'gt part labels must be in [0, {num_classes}), got '
                                 f'{int(gt.min())}..{int(gt.max())}')
            labels = torch.tensor([c for c in range(num_classes) if c != self.ignore_index])
            pred = _prediction(sample, gt.shape[0], labels)
            inter, union = _intersect_and_union(pred, gt, num_classes, self.ignore_index)
            if self.ignore_index is not None:  # "other" is never scored, even when predicted
                inter[self.ignore_index] = union[self.ignore_index] = 0
            present = union > 0
            shape_iou = float(np.mean(inter[present] / union[present])) if present.any() else None
            self.results.append(dict(intersect=inter, union=union, shape_iou=shape_iou))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        widths = {len(r['union']) for r in results}
        if len(widths) != 1:
            raise ValueError(f'samples disagree on the number of classes: {sorted(widths)}')
        inter = np.sum([r['intersect'] for r in results], axis=0)
        union = np.sum([r['union'] for r in results], axis=0)
        seen = union > 0
        shape_ious = [r['shape_iou'] for r in results if r['shape_iou'] is not None]
        return dict(
            mIoU=100 * float(np.mean(inter[seen] / union[seen])) if seen.any() else 0.0,
            shape_mIoU=100 * float(np.mean(shape_ious)) if shape_ious else 0.0)
