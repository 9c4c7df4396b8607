"""S3DIS (Stanford Large-Scale 3D Indoor Spaces) semantic segmentation, read from the release's
per-room annotation files."""
import glob
import os.path as osp
from typing import List, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS, TRANSFORMS

#: The 13 classes of the benchmark, in the label order of PointNet's ``class_names.txt``.
S3DIS_CLASSES = ('ceiling', 'floor', 'wall', 'beam', 'column', 'window', 'door', 'table', 'chair',
                 'sofa', 'bookcase', 'board', 'clutter')


@DATASETS.register_module()
class S3DISDataset(BaseDataset):
    """S3DIS rooms as ``Stanford3dDataset_v1.2_Aligned_Version`` lays them out::

        Area_1/conferenceRoom_1/Annotations/chair_1.txt    x y z r g b   (one point per line)
        Area_1/conferenceRoom_1/Annotations/wall_2.txt
        ...
        Area_6/...

    One sample per room; its points are the union of the room's annotation files, each point
    labelled by its file's class (the name before ``_``; a name outside :data:`S3DIS_CLASSES`,
    the release's few ``stairs``, is clutter, as PointNet's ``collect_point_label`` makes it).
    Load with :class:`LoadS3DISRoom`; ``PointSample`` keeps the labels aligned. The usual split
    holds Area 5 out (``areas=(5, )`` for testing, the other five for training).

    Args:
        data_root: The release folder (holding ``Area_N``).
        areas: The areas whose rooms are read.
        pipeline: Transforms, starting with ``LoadS3DISRoom``.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.

    Raises:
        FileNotFoundError: an area folder that does not exist, or one without any
            ``<room>/Annotations/*.txt`` (naming the layout expected).
    """

    def __init__(self, data_root: str = '', areas: Sequence[int] = (1, 2, 3, 4, 6),
                 pipeline: tuple = (), **kwargs) -> None:
        self.areas = tuple(int(a) for a in areas)
        kwargs.setdefault('classes', S3DIS_CLASSES)
        super().__init__(ann_file='', data_root=data_root, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = []
        for area in self.areas:
            folder = osp.join(self.data_root, f'Area_{area}')
            if not osp.isdir(folder):
                raise FileNotFoundError(f'S3DIS area folder not found: {folder} (expected '
                                        'Area_N/<room>/Annotations/<class>_<k>.txt under '
                                        'data_root)')
            rooms = sorted({osp.dirname(osp.dirname(p)) for p in
                            glob.glob(osp.join(folder, '*', 'Annotations', '*.txt'))})
            if not rooms:
                raise FileNotFoundError(f'{folder} holds no <room>/Annotations/*.txt: not the '
                                        'layout of Stanford3dDataset_v1.2_Aligned_Version')
            data_list += [dict(room_path=room, room=f'Area_{area}/{osp.basename(room)}',
                               num_seg_classes=len(S3DIS_CLASSES)) for room in rooms]
        return data_list


@TRANSFORMS.register_module()
class LoadS3DISRoom(BaseTransform):
    """Read ``results['room_path']``'s ``Annotations/*.txt`` into ``points`` (float32 ``(N, 3)``
    xyz, or ``(N, 6)`` with the colours in ``[0, 1]``) and ``gt_seg_label`` (int64 ``(N,)``).

    Args:
        use_color: Keep r, g, b (scaled to ``[0, 1]``) as columns 3–5.

    Raises:
        ValueError: a file with fewer than 6 columns or non-finite values (naming it).
    """

    def __init__(self, use_color: bool = False) -> None:
        self.use_color = use_color

    def transform(self, results: dict) -> dict:
        parts, labels = [], []
        for path in sorted(glob.glob(osp.join(results['room_path'], 'Annotations', '*.txt'))):
            name = osp.basename(path).split('_')[0]
            label = S3DIS_CLASSES.index(name if name in S3DIS_CLASSES else 'clutter')
            try:
                rows = np.loadtxt(path, dtype=np.float64, ndmin=2)
            except ValueError as e:
                raise ValueError(f'cannot parse S3DIS annotation file {path}: {e}') from e
            if rows.shape[0] == 0:
                continue
            if rows.shape[1] < 6:
                raise ValueError(f'S3DIS annotation file {path} has {rows.shape[1]} columns, '
                                 'expected 6 (x y z r g b)')
            if not np.isfinite(rows[:, :6]).all():
                raise ValueError(f'S3DIS annotation file {path} has NaN or infinite values')
            parts.append(rows[:, :6])
            labels.append(np.full(rows.shape[0], label, dtype=np.int64))
        if not parts:
            raise ValueError(f'S3DIS room {results["room_path"]} has no annotated points')
        rows = np.concatenate(parts)
        points = rows if self.use_color else rows[:, :3]
        if self.use_color:
            points = np.concatenate([rows[:, :3], rows[:, 3:6] / 255.], axis=1)
        results['points'] = torch.from_numpy(points.astype(np.float32))
        results['gt_seg_label'] = torch.from_numpy(np.concatenate(labels))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(use_color={self.use_color})'
