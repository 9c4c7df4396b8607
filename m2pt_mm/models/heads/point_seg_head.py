"""Point-MAE's part-segmentation head: global pooling, object-category embedding and PointNet++
feature propagation from the group centres back to every point."""
from typing import List, Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from ..utils import three_nn_interpolate


def _conv_bn_act(in_channels: int, out_channels: int,
                 act_cfg: Optional[dict] = None) -> ConvModule:
    """Point-MAE's ``Conv1d(kernel 1)-BN-ReLU`` (or another activation).

    mmcv leaves out the conv bias before BN (``bias='auto'``); Point-MAE keeps it, but BN
    subtracts it again, so the function is the same.
    """
    return ConvModule(in_channels, out_channels, 1, conv_cfg=dict(type='Conv1d'),
                      norm_cfg=dict(type='BN1d'), act_cfg=act_cfg or dict(type='ReLU'))


@MODELS.register_module()
class PointPartSegHead(BaseModule):
    """Point-MAE's part-segmentation head (``segmentation/models/pt.py``).

    From ``num_feats`` block outputs ``[B, D, G]`` (Point-MAE: blocks 3, 7, 11 through the final
    norm) concatenated to ``F = num_feats·D`` channels:

    1. global feature: max and mean over the groups (``2F``), plus, when ``num_categories`` is
       set (ShapeNetPart), the one-hot object category through ``Conv1d-BN-LeakyReLU(0.2)``
       (``label_channels``), repeated at every point;
    2. feature propagation: the ``F`` group features interpolated at each point from its 3
       nearest centres (inverse squared distance), concatenated with the point's xyz and passed
       through ``Conv1d-BN-ReLU`` layers of widths ``fp_channels``;
    3. ``Conv1d-BN-ReLU(mid_channels[0])``, dropout, ``Conv1d-BN-ReLU`` for the other mid
       widths, and a final ``Conv1d`` to ``num_classes`` logits per point.

    Args:
        in_channels: Width ``D`` of each block output.
        num_classes: Part labels (50 for ShapeNetPart; parts + "other" for PartNet).
        num_feats: Number of block outputs that are concatenated.
        num_categories: Object categories of the one-hot label input (16 for ShapeNetPart), or
            None without one (PartNet: one category per model).
        label_channels: Width of the category embedding.
        fp_channels: Widths of the propagation MLP; default ``(4·D, 1024)`` as Point-MAE.
        mid_channels: Widths of the per-point MLP before the classifier.
        dropout_rate: Dropout after the first per-point layer.
        loss: Per-point loss (mmpretrain registry), e.g. ``CrossEntropyLoss``.
        init_cfg: Initialisation config; None keeps each layer's own: mmcv ``ConvModule``'s
            Kaiming init for the conv-BN layers, PyTorch's for the classifier.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 num_feats: int = 3,
                 num_categories: Optional[int] = 16,
                 label_channels: int = 64,
                 fp_channels: Optional[Sequence[int]] = None,
                 mid_channels: Sequence[int] = (512, 256),
                 dropout_rate: float = 0.5,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if num_classes < 2:
            raise ValueError(f'num_classes must be >= 2, got {num_classes}')
        if not mid_channels:
            raise ValueError('mid_channels needs at least one width')
        self.in_channels, self.num_classes, self.num_feats = in_channels, num_classes, num_feats
        self.num_categories = num_categories
        feat_channels = in_channels * num_feats
        fp_channels = list(fp_channels) if fp_channels is not None else [4 * in_channels, 1024]
        global_channels = 2 * feat_channels
        if num_categories:
            self.label_conv = _conv_bn_act(num_categories, label_channels,
                                           dict(type='LeakyReLU', negative_slope=0.2))
            global_channels += label_channels
        else:
            self.label_conv = None
        widths = [feat_channels + 3] + fp_channels
        self.propagation = nn.Sequential(
            *[_conv_bn_act(i, o) for i, o in zip(widths[:-1], widths[1:])])
        widths = [fp_channels[-1] + global_channels] + list(mid_channels)
        layers: List[nn.Module] = []
        for n, (i, o) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(_conv_bn_act(i, o))
            if n == 0 and dropout_rate > 0:
                layers.append(nn.Dropout(dropout_rate))
        self.mlp = nn.Sequential(*layers)
        self.classifier = nn.Conv1d(widths[-1], num_classes, 1)
        self.loss_module = MODELS.build(loss)

    def forward(self, feats: Sequence[Tensor], centres: Tensor, xyz: Tensor,
                category: Optional[Tensor] = None) -> Tensor:
        """Per-point logits ``[B, num_classes, N]``.

        Args:
            feats: ``num_feats`` tensors ``[B, D, G]``.
            centres: Group centres ``[B, G, 3]``.
            xyz: Points ``[B, N, 3]`` (extra columns, e.g. normals, are ignored).
            category: Object category indices ``[B]`` (needed iff ``num_categories``).
        """
        if len(feats) != self.num_feats:
            raise ValueError(f'{type(self).__name__} expects {self.num_feats} block outputs '
                             f'(backbone out_indices), got {len(feats)}')
        bad = [tuple(f.shape) for f in feats if f.dim() != 3 or f.shape[1] != self.in_channels]
        if bad:
            raise ValueError(f'block outputs must be [B, {self.in_channels}, G] (backbone '
                             f"out_type='featmap'), got {bad}")
        xyz = xyz[..., :3]
        num_points = xyz.shape[1]
        x = torch.cat(list(feats), dim=1)  # [B, F, G]
        pooled = [x.max(dim=2)[0], x.mean(dim=2)]
        if self.label_conv is not None:
            if category is None:
                raise ValueError(f'{type(self).__name__} with num_categories='
                                 f'{self.num_categories} needs the object category of every '
                                 'cloud (data sample gt_label)')
            category = category.reshape(-1).long()
            if category.numel() != x.shape[0] or bool(
                    ((category < 0) | (category >= self.num_categories)).any()):
                raise ValueError(f'object categories must be {x.shape[0]} indices in '
                                 f'[0, {self.num_categories}), got {category.tolist()}')
            one_hot = nn.functional.one_hot(category, self.num_categories).to(x.dtype)
            pooled.append(self.label_conv(one_hot.unsqueeze(-1)).squeeze(-1))
        global_feat = torch.cat(pooled, dim=1).unsqueeze(-1).expand(-1, -1, num_points)
        local = three_nn_interpolate(xyz, centres, x)
        local = self.propagation(torch.cat([xyz.transpose(1, 2), local], dim=1))
        x = self.mlp(torch.cat([local, global_feat], dim=1))
        return self.classifier(x)

    def categories(self, data_samples: Optional[Sequence[DataSample]],
                   device: torch.device) -> Optional[Tensor]:
        """The object categories ``[B]`` of the samples (their ``gt_label``) when the head takes
        them (``num_categories``), else None.

        Raises:
            ValueError: the head takes categories and a sample has no ``gt_label``.
        """
        if not self.num_categories:
            return None
        if not data_samples or any('gt_label' not in s for s in data_samples):
            raise ValueError(f'{type(self).__name__} with num_categories={self.num_categories} '
                             'uses the object category: every data sample needs gt_label '
                             '(ShapeNetPartDataset provides it)')
        return torch.cat([s.gt_label.reshape(-1)[:1] for s in data_samples]).to(device)

    @staticmethod
    def seg_labels(data_samples: Optional[Sequence[DataSample]], device: torch.device) -> Tensor:
        """The per-point labels ``[B, N]`` of the samples (their ``gt_seg_label``).

        Raises:
            ValueError: a sample has no ``gt_seg_label``.
        """
        if not data_samples or any('gt_seg_label' not in s for s in data_samples):
            raise ValueError('training needs gt_seg_label in every data sample (load with '
                             'LoadPointCloud(with_seg_label=True), pack with PackInputs('
                             "algorithm_keys=('gt_seg_label', ))")
        return torch.stack([torch.as_tensor(s.gt_seg_label) for s in data_samples]).to(
            device).long()

    @staticmethod
    def set_predictions(logits: Tensor, data_samples: List[DataSample]) -> List[DataSample]:
        """``pred_seg_score`` (``(N, num_classes)`` logits) and ``pred_seg_label`` ``(N, )`` into
        each sample from ``logits [B, num_classes, N]``."""
        for sample, score in zip(data_samples, logits.transpose(1, 2)):
            sample.set_field(score.detach(), 'pred_seg_score')
            sample.set_field(score.argmax(dim=1).detach(), 'pred_seg_label')
        return data_samples

    def loss(self, logits: Tensor, labels: Tensor) -> dict:
        """``logits [B, C, N]``, ``labels [B, N]`` → ``dict(loss=...)``, plus the per-point
        accuracy as a logged value."""
        if labels.shape != (logits.shape[0], logits.shape[2]):
            raise ValueError(f'gt_seg_label must be [B, N] = {(logits.shape[0], logits.shape[2])}'
                             f', got {tuple(labels.shape)}')
        flat = logits.transpose(1, 2).reshape(-1, self.num_classes)
        target = labels.reshape(-1)
        loss = self.loss_module(flat, target)
        with torch.no_grad():
            accuracy = (flat.argmax(1) == target).float().mean() * 100
        return dict(loss=loss, accuracy=accuracy)
