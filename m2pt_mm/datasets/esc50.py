"""ESC-50: ``audio/*.wav`` + ``meta/esc50.csv``, five folds for cross-validation."""
import csv
import os.path as osp
from typing import Dict, List

from mmengine.fileio import join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .audioset import MixingDatasetMixin


@DATASETS.register_module()
class ESC50Dataset(MixingDatasetMixin, BaseDataset):
    """ESC-50 environmental sounds (2000 5-s clips, 50 classes, 5 folds).

    The 5-fold protocol: train on the four folds other than ``val_fold``, evaluate on
    ``val_fold`` (``split='val'``), and average the five accuracies. Class names come from the
    csv's ``category`` column, indexed by its ``target`` column.

    Each sample carries ``audio_path`` and ``gt_label`` (the int ``target``). A ``WaveformMixup``
    in the pipeline gets the clip to mix in from the dataset (AudioMAE's mixup).

    Args:
        data_root: The ``ESC-50-master`` folder.
        split: ``'train'`` (folds ≠ ``val_fold``) or ``'val'`` (fold = ``val_fold``).
        val_fold: The held-out fold, 1–5.
        ann_file: The meta csv, relative to ``data_root``.
        data_prefix: The wav folder, relative to ``data_root``.
        num_classes: Targets must lie in ``[0, num_classes)``.
        pipeline: Transforms.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.
    """

    NUM_FOLDS = 5

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 val_fold: int = 1,
                 ann_file: str = 'meta/esc50.csv',
                 data_prefix: str = 'audio',
                 num_classes: int = 50,
                 pipeline: tuple = (),
                 **kwargs) -> None:
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        if not 1 <= int(val_fold) <= self.NUM_FOLDS:
            raise ValueError(f'val_fold must be 1..{self.NUM_FOLDS}, got {val_fold}')
        self.split, self.val_fold, self.num_classes = split, int(val_fold), num_classes
        super().__init__(ann_file=ann_file, data_root=data_root,
                         data_prefix=dict(audio_path=data_prefix), pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'ESC-50 meta csv not found: {self.ann_file}')
        with open(self.ann_file, newline='') as f:
            reader = csv.DictReader(f)
            missing = {'filename', 'fold', 'target', 'category'} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f'{self.ann_file}: expected columns filename,fold,target,'
                                 f'category,...; missing {sorted(missing)}')
            rows = list(reader)
        names: Dict[int, str] = {}
        data_list = []
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            target, fold = int(row['target']), int(row['fold'])
            if not 0 <= target < self.num_classes:
                raise ValueError(f'{self.ann_file}:{line}: target {target} of {row["filename"]} '
                                 f'is out of range [0, {self.num_classes})')
            if not 1 <= fold <= self.NUM_FOLDS:
                raise ValueError(f'{self.ann_file}:{line}: fold {fold} of {row["filename"]} is '
                                 f'not in 1..{self.NUM_FOLDS}')
            if names.setdefault(target, row['category']) != row['category']:
                raise ValueError(f'{self.ann_file}:{line}: target {target} is named '
                                 f'{row["category"]!r} here and {names[target]!r} before')
            if (fold == self.val_fold) == (self.split == 'val'):
                data_list.append(dict(audio_path=join_path(self.data_prefix['audio_path'],
                                                           row['filename']),
                                      gt_label=target, fold=fold))
        # all rows name the classes, so train and val splits agree on them
        self._metainfo.setdefault('classes', tuple(names.get(i, f'class_{i}')
                                                   for i in range(self.num_classes)))
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Meta csv: \t{self.ann_file}', f'Audio folder: \t{self.data_prefix["audio_path"]}',
                f'Split: \t{self.split} (val fold {self.val_fold})']
