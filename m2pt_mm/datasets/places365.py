"""Places365-Standard scene recognition, in the layout of its release (places2.csail.mit.edu)."""
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.fileio import join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

#: The release's list file and image folder of each split (the 256×256 "small images").
SPLITS = dict(train=('places365_train_standard.txt', 'data_256'),
              val=('places365_val.txt', 'val_256'))


@DATASETS.register_module()
class Places365Dataset(BaseDataset):
    """Places365-Standard as its release lays it out::

        categories_places365.txt        /a/airfield 0           (one class per line)
        places365_train_standard.txt    /a/airfield/00000001.jpg 0
        places365_val.txt               Places365_val_00000001.jpg 165
        data_256/a/airfield/00000001.jpg
        val_256/Places365_val_00000001.jpg

    The train list's paths start with ``/`` (relative to ``data_256``). Each sample carries
    ``img_path`` and ``gt_label``; load with ``LoadImageFromFile``. Class names are read from
    ``categories_places365.txt`` when it exists (``/a/airfield`` → ``airfield``).

    Args:
        data_root: The release folder.
        split: ``'train'`` or ``'val'``: picks the list file and image folder of :data:`SPLITS`.
        ann_file: Another list file in the same format (overrides the split's).
        data_prefix: Another image folder (overrides the split's).
        num_classes: Labels must lie in ``[0, num_classes)``.
        pipeline: Transforms.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.

    Raises:
        ValueError: an unknown split, a line that is not ``<image path> <int label>``, a label
            out of range (naming the file and line).
        FileNotFoundError: no list file (naming the layout expected).
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 data_prefix: Optional[str] = None,
                 num_classes: int = 365,
                 classes: Optional[Union[str, Sequence[str]]] = None,
                 pipeline: tuple = (),
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'Places365Dataset split must be one of {sorted(SPLITS)}, got '
                             f'{split!r}')
        default_ann, default_prefix = SPLITS[split]
        self.num_classes = num_classes
        categories = osp.join(data_root, 'categories_places365.txt')
        if classes is None and osp.isfile(categories):
            classes = self._read_categories(categories)
        super().__init__(ann_file=ann_file or default_ann, data_root=data_root,
                         data_prefix=dict(img_path=data_prefix if data_prefix is not None
                                          else default_prefix),
                         classes=classes, pipeline=pipeline, **kwargs)

    def _read_categories(self, path: str) -> List[str]:
        names = []
        with open(path) as f:
            for line_no, line in enumerate(f, start=1):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) != 2 or int(fields[1]) != len(names):
                    raise ValueError(f'{path}:{line_no}: expected "/<letter>/<category> '
                                     f'{len(names)}", got {line.strip()!r}')
                names.append(fields[0].split('/', 2)[-1])
        if len(names) != self.num_classes:
            raise ValueError(f'{path} lists {len(names)} categories, expected num_classes='
                             f'{self.num_classes}')
        return names

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'Places365 list file not found: {self.ann_file} (the release layout: '
                f'{", ".join(f"{a} with {p}/" for a, p in SPLITS.values())} under data_root)')
        data_list = []
        with open(self.ann_file) as f:
            for line_no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                fields = line.split()
                if len(fields) != 2 or not fields[1].isdigit():
                    raise ValueError(f'{self.ann_file}:{line_no}: expected "<image path> <int '
                                     f'label>", got {line.strip()!r}')
                label = int(fields[1])
                if label >= self.num_classes:
                    raise ValueError(f'{self.ann_file}:{line_no}: label {label} is out of range '
                                     f'[0, {self.num_classes})')
                data_list.append(dict(
                    img_path=join_path(self.data_prefix['img_path'], fields[0].lstrip('/')),
                    gt_label=label))
        return data_list
