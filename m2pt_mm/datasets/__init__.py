"""Datasets and transforms for audio, video and point clouds in their real on-disk formats.

Everything registers into mmpretrain's ``DATASETS`` / ``TRANSFORMS`` (import this package, or list
``'m2pt_mm.datasets'`` in ``custom_imports``), so configs with ``default_scope='mmpretrain'`` use
them by name next to mmpretrain's own ``PackInputs``.

What ``PackInputs`` produces per dataset (``inputs``; data sample fields). Segmentation labels
reach the data sample with ``PackInputs(input_key='points', algorithm_keys=('gt_seg_label', ))``.

- ``AudioSetDataset``: fbank ``(1, T, F)`` float (``input_key='fbank'``); ``gt_label`` LongTensor
  of the clip's class indices (mmpretrain's multi-label convention; ``AveragePrecision``).
- ``ESC50Dataset``: fbank ``(1, T, F)``; ``gt_label`` ``[target]``.
- ``KineticsDataset``: clip ``(3, T, H, W)`` float (``input_key='imgs'``); ``gt_label`` ``[label]``.
- ``ModelNetDataset``: points ``(N, 3)`` or ``(N, 6)`` with normals (``input_key='points'``);
  ``gt_label`` ``[class]``.
- ``ShapeNetPartDataset``: points ``(N, 3 | 6)``; ``gt_label`` ``[object category]`` (0–15, the
  one-hot input of Point-MAE's segmentation head) and ``gt_seg_label`` ``(N,)`` long part ids 0–49.
- ``PartNetDataset``: points ``(N, 3)``; ``gt_seg_label`` ``(N,)`` long, 0 = "other".
- ``ShapeNet55Dataset``: points ``(N, 3)`` from Point-MAE's ``.npy`` files; no label
  (self-supervised pretraining).
- ``DepthImageDataset``: RGB-D ``(4, H, W)`` float (``LoadRGBDFromFile``; depth in metres as the
  4th channel); ``gt_label`` ``[label]``.
- ``TextClsDataset``: ``text`` (str) for the tokenizer transform; ``gt_label`` ``[label]``.
- ``Places365Dataset``: image (``LoadImageFromFile``); ``gt_label`` ``[label]``.
- ``MomentsInTimeDataset``: clip as ``KineticsDataset``'s; ``gt_label`` ``[label]``.
- ``S3DISDataset``: points ``(N, 3 | 6)`` of a room (``LoadS3DISRoom``); ``gt_seg_label``
  ``(N,)`` long, the 13 classes of ``S3DIS_CLASSES``.

Segmentation predictions for the metrics: ``pred_seg_score`` ``(N, num_parts)`` or
``pred_seg_label`` ``(N,)`` (``m2pt_mm.evaluation``).

OmniVec: ``MultiSourceDataset`` concatenates named sources and tags each DataSample with
``modality``, ``task``, ``task_group`` and ``source``; ``ModalityMixingSampler`` (mmengine
``DATA_SAMPLERS``) draws the mixed batches; ``omnivec_collate`` (mmengine ``FUNCTIONS``) groups a
batch by modality; the model side, ``m2pt_mm.models.OmniVecDataPreprocessor``, stacks and
normalises each group with its own preprocessor.

Decoders (soundfile, PyAV, h5py) are imported where they are used, so importing this package
registers everything without loading them.
"""
from .audioset import AudioSetDataset
from .categories import SHAPENETPART_SEG_CLASSES
from .depth import DepthImageDataset
from .esc50 import ESC50Dataset
from .kinetics import KineticsDataset
from .modelnet import ModelNetDataset
from .moments import MomentsInTimeDataset
from .multi_source import MODALITIES, TASK_GROUPS, MultiSourceDataset, omnivec_collate
from .partnet import PartNetDataset
from .places365 import Places365Dataset
from .s3dis import S3DIS_CLASSES, LoadS3DISRoom, S3DISDataset
from .samplers import ModalityMixingSampler, apportion
from .shapenet55 import ShapeNet55Dataset
from .shapenet_part import ShapeNetPartDataset
from .text import TextClsDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['AudioSetDataset', 'ESC50Dataset', 'KineticsDataset', 'ModelNetDataset',
           'ShapeNetPartDataset', 'PartNetDataset', 'SHAPENETPART_SEG_CLASSES',
           'MultiSourceDataset', 'MODALITIES', 'TASK_GROUPS', 'omnivec_collate',
           'ModalityMixingSampler', 'apportion', 'DepthImageDataset', 'TextClsDataset',
           'ShapeNet55Dataset', 'Places365Dataset', 'MomentsInTimeDataset', 'S3DISDataset',
           'LoadS3DISRoom', 'S3DIS_CLASSES']
