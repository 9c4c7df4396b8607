"""RGB-D scene classification (SUN RGB-D / NYUv2 style): an RGB image and its depth map per
sample, read as one 4-channel image by ``LoadRGBDFromFile``."""
import os.path as osp
from typing import List

from mmengine.fileio import join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS


@DATASETS.register_module()
class DepthImageDataset(BaseDataset):
    """RGB + depth pairs with a class label, listed in a text file.

    Layout under ``data_root`` (the form SUN RGB-D and NYUv2 take once their per-scan folders
    ``<scan>/image/*.jpg``, ``<scan>/depth_bfx/*.png``, ``<scan>/scene.txt`` or NYUv2's
    ``nyu_depth_v2_labeled.mat`` are exported to files, as Omnivore's and ESANet's loaders do)::

        train.txt / test.txt     one sample per line: <rgb path> <depth path> <label>
        rgb/...                  8-bit RGB images (jpg/png)
        depth/...                16-bit PNG depth maps of the same height and width
        classes.txt              optional: one class name per line (``classes=``)

    Paths are relative to ``data_root`` (with ``data_prefix`` prepended); ``label`` indexes the
    classes (19 scene classes for SUN RGB-D as in Omnivore). The depth encoding is
    ``LoadRGBDFromFile``'s business (millimetres, or SUN RGB-D's bit-rotated millimetres).

    Each sample carries ``img_path``, ``depth_path`` and ``gt_label``.

    Args:
        ann_file: The list file, relative to ``data_root``.
        data_root: The dataset folder.
        data_prefix: Prepended to both paths of every line.
        pipeline: Transforms, starting with ``LoadRGBDFromFile``.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset`` (``classes``, ...).

    Raises:
        FileNotFoundError: no list file.
        ValueError: a line without three fields, a label that is not an integer in range.
    """

    def __init__(self, ann_file: str, data_root: str = '', data_prefix: str = '',
                 pipeline: tuple = (), **kwargs) -> None:
        super().__init__(ann_file=ann_file, data_root=data_root,
                         data_prefix=dict(img_path=data_prefix), pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'RGB-D list file not found: {self.ann_file}')
        classes = self.CLASSES
        prefix = self.data_prefix['img_path']
        data_list = []
        with open(self.ann_file) as f:
            lines = [(n, line.split()) for n, line in enumerate(f, start=1) if line.strip()]
        for line_no, fields in lines:
            if len(fields) != 3:
                raise ValueError(f'{self.ann_file}:{line_no}: expected "<rgb path> <depth path> '
                                 f'<label>", got {" ".join(fields)!r}')
            try:
                label = int(fields[2])
            except ValueError:
                raise ValueError(f'{self.ann_file}:{line_no}: label {fields[2]!r} is not an '
                                 f'integer') from None
            if label < 0 or (classes is not None and label >= len(classes)):
                raise ValueError(f'{self.ann_file}:{line_no}: label {label} is out of range '
                                 f'(classes: {classes})')
            data_list.append(dict(img_path=join_path(prefix, fields[0]),
                                  depth_path=join_path(prefix, fields[1]), gt_label=label))
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Annotation file: \t{self.ann_file}', f'Prefix: \t{self.data_prefix["img_path"]}']
