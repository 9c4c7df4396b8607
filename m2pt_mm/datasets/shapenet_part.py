"""ShapeNetPart (``shapenetcore_partanno_segmentation_benchmark_v0_normal``) part segmentation."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.fileio import join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .categories import SHAPENETPART_SEG_CLASSES

_SPLIT_FILES = {'train': ('train', ), 'val': ('val', ), 'test': ('test', ),
                'trainval': ('train', 'val')}


@DATASETS.register_module()
class ShapeNetPartDataset(BaseDataset):
    """ShapeNetPart: 16 object categories, 50 parts.

    Layout under ``data_root``: ``synsetoffset2category.txt`` (``<Category>\\t<synset>`` per line;
    the line order is the object-class index), ``train_test_split/shuffled_{train,val,test}_
    file_list.json`` (entries ``shape_data/<synset>/<shape id>``) and ``<synset>/<shape id>.txt``
    with rows ``x y z nx ny nz part_label``. Point-MAE trains on ``'trainval'`` and reports on
    ``'test'``.

    Each sample carries ``points_path``, ``gt_label`` (object category index), ``category`` (its
    name) and ``part_ids`` (the part labels allowed for that category, checked on load). Load
    with ``LoadPointCloud(with_seg_label=True)``, which adds ``gt_seg_label``; evaluate with
    ``ShapeNetPartMIoU``.

    Args:
        data_root: The benchmark folder.
        split: ``'train'``, ``'val'``, ``'test'`` or ``'trainval'``.
        class_choice: Keep only these categories (names); indices stay those of the full list.
        seg_classes: Category → part ids (default: the benchmark's 50 parts).
        pipeline: Transforms.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'trainval',
                 class_choice: Optional[Sequence[str]] = None,
                 seg_classes: Optional[Dict[str, List[int]]] = None,
                 pipeline: tuple = (),
                 **kwargs) -> None:
        if split not in _SPLIT_FILES:
            raise ValueError(f'split must be one of {sorted(_SPLIT_FILES)}, got {split!r}')
        self.split = split
        self.class_choice = list(class_choice) if class_choice is not None else None
        self.seg_classes = dict(seg_classes or SHAPENETPART_SEG_CLASSES)
        super().__init__(ann_file='synsetoffset2category.txt', data_root=data_root,
                         pipeline=pipeline, **kwargs)

    def _read_categories(self) -> Dict[str, str]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'ShapeNetPart category file not found: {self.ann_file}')
        categories: Dict[str, str] = {}  # name → synset, in file order
        with open(self.ann_file) as f:
            for line_no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                fields = line.split()
                if len(fields) != 2:
                    raise ValueError(f'{self.ann_file}:{line_no}: expected "<Category> <synset>", '
                                     f'got {line.strip()!r}')
                if fields[0] not in self.seg_classes:
                    raise ValueError(f'{self.ann_file}:{line_no}: category {fields[0]!r} has no '
                                     f'part list (known: {sorted(self.seg_classes)})')
                categories[fields[0]] = fields[1]
        return categories

    def load_data_list(self) -> List[dict]:
        categories = self._read_categories()
        names = list(categories)
        if self.class_choice is not None:
            unknown = sorted(set(self.class_choice) - set(names))
            if unknown:
                raise ValueError(f'class_choice {unknown} not in {self.ann_file} ({names})')
        self._metainfo.setdefault('classes', tuple(names))
        synset_to_name = {synset: name for name, synset in categories.items()}

        wanted = set()  # (synset, shape id)
        for part in _SPLIT_FILES[self.split]:
            split_file = join_path(self.data_root, 'train_test_split',
                                   f'shuffled_{part}_file_list.json')
            if not osp.isfile(split_file):
                raise FileNotFoundError(f'ShapeNetPart split file not found: {split_file}')
            with open(split_file) as f:
                entries = json.load(f)
            for entry in entries:
                fields = str(entry).split('/')
                if len(fields) != 3 or fields[1] not in synset_to_name:
                    raise ValueError(f'{split_file}: entry {entry!r} is not shape_data/<synset>/'
                                     f'<shape id> with a synset of {self.ann_file}')
                wanted.add((fields[1], fields[2]))

        data_list = []
        # Point-MAE's order: categories as in the category file, shapes sorted by id
        for name in names:
            if self.class_choice is not None and name not in self.class_choice:
                continue
            synset = categories[name]
            for _, shape_id in sorted(w for w in wanted if w[0] == synset):
                path = join_path(self.data_root, synset, f'{shape_id}.txt')
                if not osp.isfile(path):
                    raise FileNotFoundError(f'{path} is listed in the {self.split} split but does '
                                            f'not exist')
                data_list.append(dict(points_path=path, gt_label=names.index(name),
                                      category=name, part_ids=list(self.seg_classes[name])))
        return data_list

    @property
    def num_parts(self) -> int:
        """Total number of part labels (50 for the benchmark)."""
        return sum(len(parts) for parts in self.seg_classes.values())

    def extra_repr(self) -> List[str]:
        return [f'Category file: \t{self.ann_file}', f'Split: \t{self.split}']
