"""ModelNet40 / ModelNet10 in Point-MAE's ``modelnet40_normal_resampled`` layout."""
import os.path as osp
from typing import List

from mmengine.fileio import join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS


def _read_lines(path: str) -> List[str]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'ModelNet file not found: {path}')
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


@DATASETS.register_module()
class ModelNetDataset(BaseDataset):
    """ModelNet shape classification from the resampled txt files.

    Layout under ``data_root``: ``modelnet{K}_shape_names.txt`` (one class per line, the class
    index is the line number), ``modelnet{K}_{train,test}.txt`` (shape ids such as
    ``night_stand_0001``), and ``<class>/<shape id>.txt`` with 10000 lines ``x,y,z,nx,ny,nz``. The
    class of a shape id is the id without its last ``_NNNN`` field, as in Point-MAE.

    Each sample carries ``points_path`` and ``gt_label``; load with ``LoadPointCloud``. Overall
    accuracy is mmpretrain's ``Accuracy`` (top-1).

    Args:
        data_root: The ``modelnet40_normal_resampled`` folder.
        split: ``'train'`` or ``'test'``.
        num_category: 40 or 10 (which name/split files to read).
        pipeline: Transforms.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 num_category: int = 40,
                 pipeline: tuple = (),
                 **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if num_category not in (10, 40):
            raise ValueError(f'num_category must be 10 or 40, got {num_category}')
        self.split, self.num_category = split, num_category
        super().__init__(ann_file=f'modelnet{num_category}_{split}.txt', data_root=data_root,
                         pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        names_file = join_path(self.data_root, f'modelnet{self.num_category}_shape_names.txt')
        classes = _read_lines(names_file)
        if len(classes) != self.num_category:
            raise ValueError(f'{names_file}: expected {self.num_category} class names, found '
                             f'{len(classes)}')
        class_to_idx = {name: i for i, name in enumerate(classes)}
        self._metainfo.setdefault('classes', tuple(classes))
        data_list = []
        for line_no, shape_id in enumerate(_read_lines(self.ann_file), start=1):
            class_name = shape_id.rsplit('_', 1)[0]
            if '_' not in shape_id or class_name not in class_to_idx:
                raise ValueError(f'{self.ann_file}:{line_no}: shape id {shape_id!r} does not name '
                                 f'a class of {names_file} (expected <class>_<NNNN>)')
            data_list.append(dict(points_path=join_path(self.data_root, class_name,
                                                        f'{shape_id}.txt'),
                                  gt_label=class_to_idx[class_name]))
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Split file: \t{self.ann_file}']
