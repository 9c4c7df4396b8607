"""Moments in Time (v1), read from its release's CSV lists: the Kinetics reader family."""
import csv
import os.path as osp
from typing import Dict, List

from mmengine.fileio import join_path
from mmpretrain.registry import DATASETS

from .kinetics import KineticsDataset


@DATASETS.register_module()
class MomentsInTimeDataset(KineticsDataset):
    """Moments in Time as its release (``Moments_in_Time_Raw``) lays it out::

        moments_categories.txt   adult+female+singing,0     (one class per line)
        trainingSet.csv          adult+female+singing/0a2b....mp4,adult+female+singing,3,0
        validationSet.csv        (the same columns)
        training/<category>/<clip>.mp4
        validation/<category>/<clip>.mp4

    A CSV row (no header) starts with ``<category>/<clip>.mp4``; the label is the index in
    ``moments_categories.txt`` of the path's folder, as mmaction2's MiT list parser takes it (the
    other columns are not read). Samples carry ``video_path`` and ``gt_label``
    as :class:`KineticsDataset`'s, so the same ``PyAVInit`` → ``SampleFrames`` → ``PyAVDecode``
    pipeline reads them.

    Args:
        ann_file: ``trainingSet.csv`` or ``validationSet.csv``.
        data_root: The release folder.
        data_prefix: ``training`` or ``validation``.
        categories: The category list, relative to ``data_root``.
        num_classes: 339 for Moments in Time v1.
        **kwargs: Other arguments of :class:`KineticsDataset`.

    Raises:
        FileNotFoundError: no CSV or no category list (naming the layout expected).
        ValueError: a row whose path has no category folder, a category not in the list, a
            category list whose indices are not ``0..num_classes - 1`` (naming file and line).
    """

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: str = '',
                 categories: str = 'moments_categories.txt',
                 num_classes: int = 339,
                 **kwargs) -> None:
        self.categories_file = join_path(data_root, categories) if data_root else categories
        self.category_index = self._read_categories(self.categories_file, num_classes)
        kwargs.setdefault('classes', sorted(self.category_index, key=self.category_index.get))
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=data_prefix,
                         num_classes=num_classes, **kwargs)

    @staticmethod
    def _read_categories(path: str, num_classes: int) -> Dict[str, int]:
        if not osp.isfile(path):
            raise FileNotFoundError(f'Moments in Time category list not found: {path} '
                                    '(expected "<category>,<index>" lines, the release\'s '
                                    'moments_categories.txt)')
        index: Dict[str, int] = {}
        with open(path, newline='') as f:
            for line_no, row in enumerate(csv.reader(f), start=1):
                if not row:
                    continue
                if len(row) != 2 or not row[1].strip().isdigit():
                    raise ValueError(f'{path}:{line_no}: expected "<category>,<index>", got '
                                     f'{",".join(row)!r}')
                index[row[0].strip()] = int(row[1])
        if sorted(index.values()) != list(range(num_classes)):
            raise ValueError(f'{path}: expected the indices 0..{num_classes - 1} once each, got '
                             f'{len(index)} categories')
        return index

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'Moments in Time CSV not found: {self.ann_file} (the '
                                    'release\'s trainingSet.csv / validationSet.csv)')
        data_list = []
        with open(self.ann_file, newline='') as f:
            for line_no, row in enumerate(csv.reader(f), start=1):
                if not row:
                    continue
                path = row[0].strip()
                category = path.split('/')[0] if '/' in path else None
                if category is None:
                    raise ValueError(f'{self.ann_file}:{line_no}: expected a first column '
                                     f'"<category>/<clip>.mp4", got {",".join(row)!r}')
                if category not in self.category_index:
                    raise ValueError(f'{self.ann_file}:{line_no}: category {category!r} is not '
                                     f'in {self.categories_file}')
                data_list.append(dict(video_path=join_path(self.data_prefix['video_path'],
                                                           path),
                                      gt_label=self.category_index[category]))
        return data_list
