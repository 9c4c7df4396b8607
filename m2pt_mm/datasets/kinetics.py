"""Kinetics (400/600/700): an mmaction-style list file of ``<video path> <label>`` lines."""
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.fileio import join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS


@DATASETS.register_module()
class KineticsDataset(BaseDataset):
    """Kinetics videos listed as mmaction2's ``VideoDataset`` lists them.

    Each line of ``ann_file`` is ``<path relative to data_prefix> <label>`` (e.g.
    ``abseiling/0wR5jVB-WPk_000417_000427.mp4 0``); the path may contain spaces (the label is the
    last field). Blank lines are skipped. Each sample carries ``video_path`` and ``gt_label``;
    decode with the ``PyAVInit`` → ``SampleFrames`` → ``PyAVDecode`` transforms.

    Args:
        ann_file: The list file.
        data_root: Dataset root.
        data_prefix: The video folder.
        num_classes: Labels must lie in ``[0, num_classes)`` (400 for K400).
        classes: Class names, or a file with one name per line.
        pipeline: Transforms.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.
    """

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: str = '',
                 num_classes: int = 400,
                 classes: Optional[Union[str, Sequence[str]]] = None,
                 pipeline: tuple = (),
                 **kwargs) -> None:
        self.num_classes = num_classes
        super().__init__(ann_file=ann_file, data_root=data_root,
                         data_prefix=dict(video_path=data_prefix), classes=classes,
                         pipeline=pipeline, **kwargs)
        if self.CLASSES is not None and len(self.CLASSES) != num_classes:
            raise ValueError(f'{len(self.CLASSES)} class names given for num_classes='
                             f'{num_classes}')

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'Kinetics list file not found: {self.ann_file}')
        data_list = []
        with open(self.ann_file) as f:
            for line_no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                fields = line.strip().rsplit(maxsplit=1)
                if len(fields) != 2 or not fields[1].lstrip('-').isdigit():
                    raise ValueError(f'{self.ann_file}:{line_no}: expected "<video path> <int '
                                     f'label>", got {line.strip()!r}')
                label = int(fields[1])
                if not 0 <= label < self.num_classes:
                    raise ValueError(f'{self.ann_file}:{line_no}: label {label} of {fields[0]} is '
                                     f'out of range [0, {self.num_classes})')
                data_list.append(dict(video_path=join_path(self.data_prefix['video_path'],
                                                           fields[0]),
                                      gt_label=label))
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Annotation file: \t{self.ann_file}',
                f'Video folder: \t{self.data_prefix["video_path"]}']
