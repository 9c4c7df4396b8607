"""The tiny multi-modal data of the OmniVec configs (``configs/omnivec/*tiny*``), in one call, and
writers of the datasets only OmniVec's stage 2 reads (Table 7's dense group: Places-365, Moments
in Time, S3DIS), each in its release's on-disk layout.

Command line: ``python -m m2pt_mm.testing.omnivec data/omnivec-tiny``.
"""
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from .digits import write_digits_imagenet
from .modalities import (
    moving_bar,
    write_esc50,
    write_kinetics,
    write_modelnet40,
    write_shapenetpart,
    write_video,
)
from .text import write_text_cls

PathLike = Union[str, Path]


def write_places365(root: PathLike, num_classes: int = 3, per_class: Tuple[int, int] = (4, 2),
                    size: int = 32, seed: int = 0, num_categories: Optional[int] = None) -> dict:
    """Places365-Standard's layout (``Places365Dataset``): ``categories_places365.txt``,
    ``places365_train_standard.txt`` (``/a/<name>/<n>.jpg <label>``) over ``data_256/``,
    ``places365_val.txt`` (``Places365_val_<n>.jpg <label>``) over ``val_256/``; JPEG "scenes"
    whose class is the orientation of their stripes. The category list names
    ``num_categories`` classes (default ``num_classes``; 365 for a config of the full set), the
    images use the first ``num_classes``.

    Returns:
        ``train`` / ``val``: ``Places365Dataset`` kwargs; ``labels``: per split.
    """
    from PIL import Image
    root, rng = Path(root), np.random.default_rng(seed)
    names = [f'/{chr(ord("a") + k % 26)}/scene_{k}' for k in range(num_categories or
                                                                 num_classes)]
    (root / 'categories_places365.txt').parent.mkdir(parents=True, exist_ok=True)
    (root / 'categories_places365.txt').write_text(
        ''.join(f'{name} {k}\n' for k, name in enumerate(names)))
    grid = np.arange(size)
    labels = {}
    for split, count in zip(('train', 'val'), per_class):
        lines, labels[split] = [], []
        for label in range(num_classes):
            for i in range(count):
                if split == 'train':
                    rel = f'{names[label]}/{i + 1:08d}.jpg'
                    path = root / 'data_256' / rel.lstrip('/')
                else:
                    rel = f'Places365_val_{label * count + i + 1:08d}.jpg'
                    path = root / 'val_256' / rel
                stripes = [grid[:, None] + 0 * grid, 0 * grid[:, None] + grid,
                           grid[:, None] + grid][label % 3] // 4 % 2 * 200.
                image = stripes + rng.normal(0, 20, (size, size))
                image = np.clip(np.stack([image] * 3, -1), 0, 255).astype(np.uint8)
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(image).save(path, format='JPEG')
                lines.append(f'{rel} {label}')
                labels[split].append(label)
        (root / ('places365_train_standard.txt' if split == 'train' else 'places365_val.txt')
         ).write_text('\n'.join(lines) + '\n')
    common = dict(data_root=str(root), num_classes=len(names))
    return dict(train=dict(split='train', **common), val=dict(split='val', **common),
                labels=labels)


def write_moments(root: PathLike, num_classes: int = 2, per_class: Tuple[int, int] = (2, 1),
                  num_frames: int = 40, size: Tuple[int, int] = (32, 40), fps: int = 25,
                  seed: int = 1, num_categories: Optional[int] = None) -> dict:
    """Moments in Time's layout (``MomentsInTimeDataset``): ``moments_categories.txt``
    (``<category>,<index>``), ``trainingSet.csv`` / ``validationSet.csv`` (``<path>,<category>,
    <agree>,<disagree>``) over ``training/`` / ``validation/``; mp4 clips of a bar moving in the
    direction of their class. The category list names ``num_categories`` classes (default
    ``num_classes``; 339 for a config of the full set), the clips use the first ``num_classes``.

    Returns:
        ``train`` / ``val``: ``MomentsInTimeDataset`` kwargs; ``labels``: per split.
    """
    root, rng = Path(root), np.random.default_rng(seed)
    names = [f'moving+{k}' for k in range(num_categories or num_classes)]
    root.mkdir(parents=True, exist_ok=True)
    (root / 'moments_categories.txt').write_text(
        ''.join(f'{name},{k}\n' for k, name in enumerate(names)))
    labels = {}
    for split, folder, csv, count in zip(('train', 'val'), ('training', 'validation'),
                                         ('trainingSet.csv', 'validationSet.csv'), per_class):
        rows, labels[split] = [], []
        for label in range(num_classes):
            for i in range(count):
                rel = f'{names[label]}/clip_{split}_{i:03d}.mp4'
                write_video(root / folder / rel, moving_bar(label, num_frames, size, rng), fps)
                rows.append(f'{rel},{names[label]},3,0')
                labels[split].append(label)
        (root / csv).write_text('\n'.join(rows) + '\n')
    common = dict(data_root=str(root), num_classes=len(names))
    return dict(train=dict(ann_file='trainingSet.csv', data_prefix='training', **common),
                val=dict(ann_file='validationSet.csv', data_prefix='validation', **common),
                labels=labels)


#: What the tiny S3DIS rooms hold: (annotation file stem, class) — ``stairs`` is the release's
#: class outside the benchmark's 13, read as clutter.
ROOM_OBJECTS = (('ceiling_1', 'ceiling'), ('floor_1', 'floor'), ('wall_1', 'wall'),
                ('wall_2', 'wall'), ('chair_1', 'chair'), ('table_1', 'table'),
                ('stairs_1', 'clutter'))


def write_s3dis(root: PathLike, areas: Sequence[int] = (1, 5), rooms: int = 2,
                points_per_object: int = 64, seed: int = 2) -> dict:
    """S3DIS's layout (``Stanford3dDataset_v1.2_Aligned_Version``; ``S3DISDataset``):
    ``Area_N/office_K/Annotations/<class>_<k>.txt`` of ``x y z r g b`` lines, the objects of
    :data:`ROOM_OBJECTS` placed where a room has them (ceiling at 3 m, floor at 0, walls at x = 0
    and y = 0, furniture in between).

    Returns:
        ``train`` / ``val``: ``S3DISDataset`` kwargs (the first area / the others); ``rooms``:
        ``{room: [(file, class, number of points)]}``.
    """
    root, rng = Path(root), np.random.default_rng(seed)
    written = {}
    for area in areas:
        for k in range(1, rooms + 1):
            folder = root / f'Area_{area}' / f'office_{k}' / 'Annotations'
            folder.mkdir(parents=True, exist_ok=True)
            objects = []
            for stem, name in ROOM_OBJECTS:
                uv = rng.uniform(0, 4, (points_per_object, 2))
                if name in ('ceiling', 'floor'):
                    xyz = np.c_[uv, np.full(points_per_object, 3.0 if name == 'ceiling' else 0.)]
                elif name == 'wall':
                    xyz = np.c_[np.zeros(points_per_object), uv] if stem.endswith('1') else \
                        np.c_[uv[:, 0], np.zeros(points_per_object), uv[:, 1] * 0.75]
                else:
                    centre = rng.uniform(1, 3, 3) * (1, 1, 0.3)
                    xyz = centre + rng.normal(0, 0.15, (points_per_object, 3))
                rgb = rng.integers(0, 256, (points_per_object, 3))
                np.savetxt(folder / f'{stem}.txt', np.c_[xyz, rgb], fmt='%.4f %.4f %.4f %d %d %d')
                objects.append((f'{stem}.txt', name, points_per_object))
            written[f'Area_{area}/office_{k}'] = objects
    return dict(train=dict(data_root=str(root), areas=tuple(areas[:1])),
                val=dict(data_root=str(root), areas=tuple(areas[1:])), rooms=written)


def write_omnivec_tiny(root: PathLike, vocab_size: int = 256) -> dict:
    """Write ``digits/``, ``esc50/``, ``kinetics/``, ``modelnet40/``, ``shapenetpart/``,
    ``places365/``, ``moments/``, ``s3dis/`` and ``text/`` (with its WordPiece ``vocab.json``)
    under ``root``, the layout the tiny configs read.

    Returns:
        Each writer's result by folder name; ``text`` also has ``vocab_file``.
    """
    from m2pt_mm.text_vocab import build_text_vocab  # needs `tokenizers`
    root = Path(root)
    info = dict(digits=write_digits_imagenet(str(root / 'digits')),
                esc50=write_esc50(root / 'esc50'), kinetics=write_kinetics(root / 'kinetics'),
                modelnet40=write_modelnet40(root / 'modelnet40'),
                shapenetpart=write_shapenetpart(root / 'shapenetpart'),
                places365=write_places365(root / 'places365'),
                moments=write_moments(root / 'moments'), s3dis=write_s3dis(root / 's3dis'),
                text=write_text_cls(root / 'text'))
    corpus = Path(info['text']['corpus']).read_text(encoding='utf-8').splitlines()
    info['text']['vocab_file'] = str(build_text_vocab(corpus, vocab_size, root / 'text' /
                                                      'vocab.json'))
    return info


if __name__ == '__main__':
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='output folder, e.g. data/omnivec-tiny')
    write_omnivec_tiny(parser.parse_args().root)
