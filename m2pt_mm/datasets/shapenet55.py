"""ShapeNet-55 in Point-MAE's ``data/ShapeNet55-34`` layout (Point-MAE's pretraining set)."""
import os.path as osp
import re
from typing import List

from mmengine.fileio import join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

#: A list entry: ``{taxonomy_id}-{model_id}.npy`` (the synset, then ShapeNetCore's model id).
_ENTRY = re.compile(r'^(?P<taxonomy_id>[^-/\s]+)-(?P<model_id>[^/\s]+)\.npy$')


@DATASETS.register_module()
class ShapeNet55Dataset(BaseDataset):
    """ShapeNet-55 point clouds, read as Point-MAE's ``ShapeNet`` dataset reads them.

    Layout under ``data_root`` (Point-MAE's ``data/ShapeNet55-34``)::

        ShapeNet-55/{train,test}.txt   entries, e.g. 02691156-1a04e3eab45ca15dd86060f189eb133.npy
        shapenet_pc/<entry>            a float32 array (8192, 3)

    Each sample carries ``points_path``, ``taxonomy_id`` and ``model_id`` (no label: the set is
    used for self-supervised pretraining); load with ``LoadPointCloud``. Point-MAE's
    pretraining pipeline is ``PointSample(1024, 'random')`` → ``PointNormalize``.

    Args:
        data_root: The ``ShapeNet55-34`` folder.
        split: ``'train'`` or ``'test'`` (which list file).
        whole: Read ``test.txt`` and then the split's list, as Point-MAE's ``whole=True``.
        pipeline: Transforms.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.

    Raises:
        FileNotFoundError: a list file, or the point file of a list entry, is missing (the
            message names the list file, the line and the entry).
        ValueError: a list line is not ``<taxonomy id>-<model id>.npy``.
    """

    LIST_DIR = 'ShapeNet-55'
    POINTS_DIR = 'shapenet_pc'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 whole: bool = False,
                 pipeline: tuple = (),
                 **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        self.split, self.whole = split, whole
        super().__init__(ann_file=join_path(self.LIST_DIR, f'{split}.txt'), data_root=data_root,
                         pipeline=pipeline, **kwargs)

    def _read_list(self, list_file: str) -> List[dict]:
        if not osp.isfile(list_file):
            raise FileNotFoundError(f'ShapeNet-55 list file not found: {list_file}')
        samples = []
        with open(list_file) as f:
            for line_no, line in enumerate(f, start=1):
                entry = line.strip()
                if not entry:
                    continue
                match = _ENTRY.match(entry)
                if match is None:
                    raise ValueError(f'{list_file}:{line_no}: expected "<taxonomy id>-<model id>'
                                     f'.npy", got {entry!r}')
                path = join_path(self.data_root, self.POINTS_DIR, entry)
                if not osp.isfile(path):
                    raise FileNotFoundError(f'{list_file}:{line_no}: {entry} is listed but its '
                                            f'point file {path} does not exist')
                samples.append(dict(points_path=path, **match.groupdict()))
        return samples

    def load_data_list(self) -> List[dict]:
        data_list = []
        if self.whole:
            data_list += self._read_list(join_path(self.data_root, self.LIST_DIR, 'test.txt'))
        return data_list + self._read_list(self.ann_file)

    def extra_repr(self) -> List[str]:
        return [f'List file: \t{self.ann_file}', f'Whole (test + {self.split}): \t{self.whole}']
