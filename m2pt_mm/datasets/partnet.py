"""PartNet fine-grained semantic segmentation in the released ``sem_seg_h5`` layout."""
import glob
import os.path as osp
from typing import List, Optional

from mmengine.fileio import join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS


def read_partnet_label_file(path: str) -> List[str]:
    """Part names of one category-level from PartNet's ``stats/after_merging_label_ids/
    <Category>-level-<l>.txt`` (lines ``<id> <part path> <type>``), with ``'other'`` prepended as
    label 0, so that ``len(result)`` is the number of classes of ``label_seg``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'PartNet label file not found: {path}')
    with open(path) as f:
        names = [line.split()[1] for line in f if line.strip()]
    return ['other'] + names


@DATASETS.register_module()
class PartNetDataset(BaseDataset):
    """PartNet semantic segmentation of one category at one level (the benchmark trains and
    evaluates each ``<Category>-<level>`` separately).

    Layout: ``data_root/<Category>-<level>/{train,val,test}-XX.h5``, each with ``data``
    ``(B, 10000, 3)`` float and ``label_seg`` ``(B, 10000)`` int, where label 0 is "other" (not a
    part; PartNet's evaluation ignores it). Shapes are read lazily, one h5 row per sample: each
    sample carries ``points_path`` (the h5 file), ``h5_index`` and ``num_seg_classes``; load with
    ``LoadPointCloud(with_seg_label=True)`` and evaluate with ``PartNetMIoU``.

    The number of classes is not stored in the h5 files: give ``num_classes`` (parts + 1) or
    ``label_file`` (PartNet's ``after_merging_label_ids`` file, which also names the parts).

    Args:
        data_root: The ``sem_seg_h5`` folder.
        category: e.g. ``'Chair'``.
        level: 1, 2 or 3.
        split: ``'train'``, ``'val'`` or ``'test'``.
        num_classes: Number of ``label_seg`` classes including "other".
        label_file: PartNet's label-id file for this category-level.
        pipeline: Transforms.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.
    """

    def __init__(self,
                 data_root: str,
                 category: str,
                 level: int,
                 split: str = 'train',
                 num_classes: Optional[int] = None,
                 label_file: Optional[str] = None,
                 pipeline: tuple = (),
                 **kwargs) -> None:
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
        if level not in (1, 2, 3):
            raise ValueError(f'PartNet levels are 1, 2, 3; got {level}')
        if label_file is not None:
            if not osp.isabs(label_file) and data_root:
                label_file = join_path(data_root, label_file)
            names = read_partnet_label_file(label_file)
            if num_classes is not None and num_classes != len(names):
                raise ValueError(f'num_classes={num_classes} but {label_file} lists '
                                 f'{len(names) - 1} parts (+ "other" = {len(names)})')
            num_classes = len(names)
            kwargs['metainfo'] = {'classes': tuple(names), **(kwargs.get('metainfo') or {})}
        if num_classes is None or num_classes < 2:
            raise ValueError('PartNetDataset needs num_classes (parts + 1 for "other", >= 2) or '
                             'label_file (stats/after_merging_label_ids/<Category>-level-<l>.txt)')
        self.category, self.level, self.split = category, level, split
        self.num_classes = num_classes
        super().__init__(ann_file='', data_root=data_root, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        import h5py  # only PartNet needs it

        folder = join_path(self.data_root, f'{self.category}-{self.level}')
        files = sorted(glob.glob(osp.join(folder, f'{self.split}-*.h5')))
        if not files:
            raise FileNotFoundError(f'no {self.split}-*.h5 files in {folder} (expected PartNet\'s '
                                    f'sem_seg_h5/<Category>-<level>/ layout)')
        data_list = []
        for path in files:
            with h5py.File(path, 'r') as f:
                for key in ('data', 'label_seg'):
                    if key not in f:
                        raise KeyError(f'{path}: no dataset {key!r} (has {sorted(f.keys())})')
                points, labels = f['data'].shape, f['label_seg'].shape
            if len(points) != 3 or points[2] != 3 or tuple(labels) != tuple(points[:2]):
                raise ValueError(f'{path}: expected data (B, N, 3) and label_seg (B, N), got '
                                 f'{tuple(points)} and {tuple(labels)}')
            data_list += [dict(points_path=path, h5_index=i, num_seg_classes=self.num_classes)
                          for i in range(points[0])]
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Category-level: \t{self.category}-{self.level}', f'Split: \t{self.split}',
                f'Classes (incl. other): \t{self.num_classes}']
