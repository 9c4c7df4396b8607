"""Write tiny synthetic datasets in the real on-disk formats of AudioSet, ESC-50, Kinetics-400,
ModelNet40, ShapeNetPart, PartNet, ShapeNet-55 and SUN RGB-D-style RGB-D lists (wav, mp4, txt and
npy point files, json splits, h5, 16-bit depth PNGs), and the GLUE-style text set of :mod:`.text`,
for tests, tiny training runs and CPU demos.

Command line: ``python tools/data/synth_modalities.py OUT [--sets audioset shapenetpart ...]``.

Each ``write_*`` returns a dict: ``train`` / ``val`` (and ``test`` where the format has one) are
the keyword arguments of the registered dataset (``dict(type='AudioSetDataset', **info['train'],
pipeline=...)``), plus ``num_classes``, ``classes`` and the expected labels. The data are
learnable: the class decides a tone, a motion or a shape.
"""
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .text import write_text_cls

PathLike = Union[str, Path]

#: A few real AudioSet classes (index, mid, display name) from class_labels_indices.csv.
AUDIOSET_CLASSES = [(0, '/m/09x0r', 'Speech'), (1, '/m/05zppz', 'Male speech, man speaking'),
                    (2, '/m/02zsn', 'Female speech, woman speaking'),
                    (3, '/m/0ytgt', 'Child speech, kid speaking'),
                    (4, '/m/01h8n0', 'Conversation')]

#: The 40 ModelNet40 classes in the order of modelnet40_shape_names.txt.
MODELNET40_CLASSES = (
    'airplane', 'bathtub', 'bed', 'bench', 'bookshelf', 'bottle', 'bowl', 'car', 'chair', 'cone',
    'cup', 'curtain', 'desk', 'door', 'dresser', 'flower_pot', 'glass_box', 'guitar', 'keyboard',
    'lamp', 'laptop', 'mantel', 'monitor', 'night_stand', 'person', 'piano', 'plant', 'radio',
    'range_hood', 'sink', 'sofa', 'stairs', 'stool', 'table', 'tent', 'toilet', 'tv_stand', 'vase',
    'wardrobe', 'xbox')

#: ShapeNetPart's synsetoffset2category.txt.
SHAPENETPART_SYNSETS = (
    ('Airplane', '02691156'), ('Bag', '02773838'), ('Cap', '02954340'), ('Car', '02958343'),
    ('Chair', '03001627'), ('Earphone', '03261776'), ('Guitar', '03467517'), ('Knife', '03624134'),
    ('Lamp', '03636649'), ('Laptop', '03642806'), ('Motorbike', '03790512'), ('Mug', '03797390'),
    ('Pistol', '03948459'), ('Rocket', '04004475'), ('Skateboard', '04225943'),
    ('Table', '04379231'))


# --------------------------------------------------------------------------------------------
# audio


def tone(labels: Sequence[int], sample_rate: int, seconds: float, rng: np.random.Generator,
         channels: int = 1) -> np.ndarray:
    """A sum of sines, one per label (class k at 400·(k+1) Hz), plus a little noise."""
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    wave = sum(np.sin(2 * np.pi * 400 * (k + 1) * t + rng.uniform(0, 2 * np.pi)) for k in labels)
    wave = 0.3 * wave / max(len(labels), 1) + 0.01 * rng.standard_normal(t.shape)
    wave = wave.astype(np.float32)
    return wave if channels == 1 else np.stack([wave] * channels, axis=1)


def write_wav(path: PathLike, data: np.ndarray, sample_rate: int) -> Path:
    """Write a 16-bit PCM wav with soundfile (data ``(L,)`` or ``(L, channels)`` in [-1, 1])."""
    import soundfile
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), data, sample_rate, subtype='PCM_16')
    return path


def write_audioset(root: PathLike, n: int = 4, num_classes: int = 3, sample_rate: int = 16000,
                   seconds: float = 1.0, seed: int = 0) -> dict:
    """AudioMAE's AudioSet layout: ``class_labels_indices.csv``, ``audio/<ytid>.wav``,
    ``train.json`` (relative wav paths) and ``eval.json`` (absolute paths, as AudioMAE writes).

    Sample ``i`` has class ``i % K``, and odd samples also ``(i + 1) % K`` (multi-label).

    Returns:
        ``train`` / ``val``: ``AudioSetDataset`` kwargs; ``labels``: ``{'train': [[...]], 'val':
        ...}`` sorted index lists; ``num_classes``; ``classes``; ``mids``.
    """
    if not 1 <= num_classes <= len(AUDIOSET_CLASSES):
        raise ValueError(f'num_classes must be 1..{len(AUDIOSET_CLASSES)}')
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    classes = AUDIOSET_CLASSES[:num_classes]
    with open(root / 'class_labels_indices.csv', 'w') as f:
        f.write('index,mid,display_name\n')
        for index, mid, name in classes:
            f.write(f'{index},{mid},"{name}"\n')
    labels: Dict[str, List[List[int]]] = {}
    for split, json_name in (('train', 'train.json'), ('val', 'eval.json')):
        entries, labels[split] = [], []
        for i in range(n):
            sample_labels = sorted({i % num_classes, (i + 1) % num_classes} if i % 2 else
                                   {i % num_classes})
            rel = f'audio/{split}_{i:04d}.wav'
            write_wav(root / rel, tone(sample_labels, sample_rate, seconds, rng), sample_rate)
            wav = rel if split == 'train' else str((root / rel).resolve())
            entries.append(dict(wav=wav, labels=','.join(classes[k][1] for k in sample_labels)))
            labels[split].append(sample_labels)
        with open(root / json_name, 'w') as f:
            json.dump({'data': entries}, f, indent=1)
    common = dict(data_root=str(root), label_csv='class_labels_indices.csv')
    return dict(train=dict(ann_file='train.json', **common),
                val=dict(ann_file='eval.json', **common), labels=labels,
                num_classes=num_classes, classes=tuple(c[2] for c in classes),
                mids=tuple(c[1] for c in classes))


def write_esc50(root: PathLike, num_classes: int = 3, clips_per_fold: int = 1,
                sample_rate: int = 44100, seconds: float = 1.0, val_fold: int = 1,
                seed: int = 0) -> dict:
    """ESC-50's layout: ``audio/{fold}-{src}-{take}-{target}.wav`` at 44.1 kHz (resampled by the
    pipeline) and ``meta/esc50.csv`` with its columns ``filename,fold,target,category,esc10,
    src_file,take``; every class has ``clips_per_fold`` clips in each of the 5 folds.

    Returns:
        ``train`` / ``val``: ``ESC50Dataset`` kwargs for ``val_fold``; ``rows``: the csv rows as
        dicts; ``num_classes``; ``classes``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    names = ['dog', 'rooster', 'pig', 'cow', 'frog', 'cat', 'hen', 'insects'][:num_classes]
    if len(names) < num_classes:
        names += [f'class_{k}' for k in range(len(names), num_classes)]
    rows = []
    for fold in range(1, 6):
        for target in range(num_classes):
            for clip in range(clips_per_fold):
                src = 100000 + 1000 * fold + 10 * target + clip
                filename = f'{fold}-{src}-A-{target}.wav'
                write_wav(root / 'audio' / filename, tone([target], sample_rate, seconds, rng),
                          sample_rate)
                rows.append(dict(filename=filename, fold=fold, target=target,
                                 category=names[target], esc10=str(target == 0), src_file=src,
                                 take='A'))
    (root / 'meta').mkdir(parents=True, exist_ok=True)
    with open(root / 'meta' / 'esc50.csv', 'w') as f:
        f.write('filename,fold,target,category,esc10,src_file,take\n')
        for r in rows:
            f.write(f'{r["filename"]},{r["fold"]},{r["target"]},{r["category"]},{r["esc10"]},'
                    f'{r["src_file"]},{r["take"]}\n')
    common = dict(data_root=str(root), val_fold=val_fold, num_classes=num_classes)
    return dict(train=dict(split='train', **common), val=dict(split='val', **common), rows=rows,
                num_classes=num_classes, classes=tuple(names))


# --------------------------------------------------------------------------------------------
# video


def write_video(path: PathLike, frames: np.ndarray, fps: int = 25) -> Path:
    """Encode uint8 RGB frames ``(T, H, W, 3)`` (even H, W) as an H.264 mp4 with PyAV."""
    import av
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = 'libx264' if 'libx264' in av.codecs_available else 'mpeg4'
    with av.open(str(path), mode='w') as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = 'yuv420p'
        if codec == 'libx264':
            stream.options = {'crf': '12', 'preset': 'ultrafast'}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def moving_bar(label: int, num_frames: int, size: Tuple[int, int],
               rng: np.random.Generator) -> np.ndarray:
    """Class 0: a bright vertical bar moving right; class 1: a horizontal bar moving down;
    class k >= 2: the same with a colour tint per class."""
    h, w = size
    frames = np.full((num_frames, h, w, 3), 40, dtype=np.uint8)
    frames += rng.integers(0, 20, frames.shape, dtype=np.uint8)
    for t in range(num_frames):
        if label % 2 == 0:
            x = (t * 2) % w
            frames[t, :, x:x + 4] = 220
        else:
            y = (t * 2) % h
            frames[t, y:y + 4, :] = 220
    frames[..., label % 3] = np.maximum(frames[..., label % 3], 30 * (label // 2))
    return frames


def write_kinetics(root: PathLike, num_classes: int = 2, per_class: Tuple[int, int] = (2, 1),
                   num_frames: int = 40, size: Tuple[int, int] = (32, 40), fps: int = 25,
                   seed: int = 0) -> dict:
    """Kinetics' layout: ``videos/<class>/<youtube id>_<start>_<end>.mp4`` and mmaction-style
    list files ``kinetics_{train,val}_list.txt`` (``<path> <label>``).

    Returns:
        ``train`` / ``val``: ``KineticsDataset`` kwargs; ``labels``: per split; ``num_classes``;
        ``classes``; ``num_frames``; ``size``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    classes = tuple(f'action_{k}' for k in range(num_classes))
    labels = {}
    for split, count in zip(('train', 'val'), per_class):
        lines, labels[split] = [], []
        for label in range(num_classes):
            for i in range(count):
                rel = f'{classes[label]}/{split}{i:02d}vid_{i:06d}_{i + 10:06d}.mp4'
                write_video(root / 'videos' / rel, moving_bar(label, num_frames, size, rng), fps)
                lines.append(f'{rel} {label}')
                labels[split].append(label)
        (root / f'kinetics_{split}_list.txt').write_text('\n'.join(lines) + '\n')
    common = dict(data_root=str(root), data_prefix='videos', num_classes=num_classes)
    return dict(train=dict(ann_file='kinetics_train_list.txt', **common),
                val=dict(ann_file='kinetics_val_list.txt', **common), labels=labels,
                num_classes=num_classes, classes=classes, num_frames=num_frames, size=size)


# --------------------------------------------------------------------------------------------
# point clouds


def surface_points(shape: int, num_points: int, rng: np.random.Generator
                   ) -> Tuple[np.ndarray, np.ndarray]:
    """Points and unit normals on a sphere (0), a cube (1) or a cylinder (2, and above)."""
    if shape == 0:
        xyz = rng.standard_normal((num_points, 3))
        xyz /= np.linalg.norm(xyz, axis=1, keepdims=True)
        normals = xyz.copy()
    elif shape == 1:
        xyz = rng.uniform(-1, 1, (num_points, 3))
        axis = rng.integers(0, 3, num_points)
        side = np.where(rng.random(num_points) < 0.5, -1.0, 1.0)
        xyz[np.arange(num_points), axis] = side
        normals = np.zeros_like(xyz)
        normals[np.arange(num_points), axis] = side
    else:
        angle = rng.uniform(0, 2 * np.pi, num_points)
        xyz = np.stack([np.cos(angle), np.sin(angle), rng.uniform(-1, 1, num_points)], 1)
        normals = np.stack([np.cos(angle), np.sin(angle), np.zeros(num_points)], 1)
    scale = rng.uniform(0.5, 1.5)
    return xyz * scale + rng.uniform(-0.2, 0.2, 3), normals


def write_modelnet40(root: PathLike, classes: Sequence[str] = ('airplane', 'bathtub',
                                                               'night_stand'),
                     per_class: Tuple[int, int] = (2, 1), num_points: int = 300,
                     seed: int = 0) -> dict:
    """Point-MAE's ``modelnet40_normal_resampled`` layout: ``modelnet40_shape_names.txt`` (all 40
    names), ``modelnet40_{train,test}.txt`` and ``<class>/<class>_<NNNN>.txt`` with ``num_points``
    lines ``x,y,z,nx,ny,nz`` (the real files have 10000). The i-th listed class is a sphere, cube
    or cylinder.

    Returns:
        ``train`` / ``val``: ``ModelNetDataset`` kwargs (val = the test split); ``labels``: class
        indices per split; ``files``: paths per split; ``num_classes`` (40); ``classes``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    (root / 'modelnet40_shape_names.txt').parent.mkdir(parents=True, exist_ok=True)
    (root / 'modelnet40_shape_names.txt').write_text('\n'.join(MODELNET40_CLASSES) + '\n')
    ids = {'train': [], 'test': []}
    labels = {'train': [], 'test': []}
    files = {'train': [], 'test': []}
    for shape, name in enumerate(classes):
        if name not in MODELNET40_CLASSES:
            raise ValueError(f'{name!r} is not a ModelNet40 class')
        counter = 0
        for split, count in zip(('train', 'test'), per_class):
            for _ in range(count):
                counter += 1
                shape_id = f'{name}_{counter:04d}'
                xyz, normals = surface_points(shape, num_points, rng)
                path = root / name / f'{shape_id}.txt'
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savetxt(path, np.concatenate([xyz, normals], 1), fmt='%.6f', delimiter=',')
                ids[split].append(shape_id)
                labels[split].append(MODELNET40_CLASSES.index(name))
                files[split].append(str(path))
    for split in ('train', 'test'):
        (root / f'modelnet40_{split}.txt').write_text('\n'.join(ids[split]) + '\n')
    return dict(train=dict(data_root=str(root), split='train'),
                val=dict(data_root=str(root), split='test'),
                labels=dict(train=labels['train'], val=labels['test']),
                files=dict(train=files['train'], val=files['test']), num_classes=40,
                classes=MODELNET40_CLASSES)


def write_shapenetpart(root: PathLike, categories: Sequence[str] = ('Bag', 'Chair', 'Table'),
                       per_split: Tuple[int, int, int] = (2, 1, 1),
                       num_points: Tuple[int, int] = (280, 320), seed: int = 0) -> dict:
    """``shapenetcore_partanno_segmentation_benchmark_v0_normal``: ``synsetoffset2category.txt``
    (all 16), ``train_test_split/shuffled_{train,val,test}_file_list.json`` and
    ``<synset>/<shape id>.txt`` rows ``x y z nx ny nz label`` (label written as a float, as in
    the release). Each shape has a random number of points in ``num_points``; its parts are
    bands along z, one per part of its category (lowest z = first part).

    Returns:
        ``train`` / ``val``: ``ShapeNetPartDataset`` kwargs (``'trainval'`` and ``'test'``);
        ``shapes``: per split, dicts with ``path``, ``category``, ``gt_label``; ``num_classes``
        (16); ``num_parts`` (50).
    """
    from m2pt_mm.datasets import SHAPENETPART_SEG_CLASSES
    root = Path(root)
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / 'synsetoffset2category.txt').write_text(
        ''.join(f'{name}\t{synset}\n' for name, synset in SHAPENETPART_SYNSETS))
    synsets = dict(SHAPENETPART_SYNSETS)
    names = [name for name, _ in SHAPENETPART_SYNSETS]
    splits = {'train': [], 'val': [], 'test': []}
    shapes = {'train': [], 'val': [], 'test': []}
    for shape_kind, category in enumerate(categories):
        parts = SHAPENETPART_SEG_CLASSES[category]
        for split, count in zip(('train', 'val', 'test'), per_split):
            for _ in range(count):
                shape_id = ''.join(rng.choice(list('0123456789abcdef'), 32))
                n = int(rng.integers(num_points[0], num_points[1] + 1))
                xyz, normals = surface_points(shape_kind, n, rng)
                band = np.argsort(np.argsort(xyz[:, 2])) * len(parts) // n
                label = np.asarray(parts)[band].astype(np.float64)
                path = root / synsets[category] / f'{shape_id}.txt'
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savetxt(path, np.concatenate([xyz, normals, label[:, None]], 1), fmt='%.6f')
                splits[split].append(f'shape_data/{synsets[category]}/{shape_id}')
                shapes[split].append(dict(path=str(path), category=category,
                                          gt_label=names.index(category)))
    (root / 'train_test_split').mkdir(exist_ok=True)
    for split, entries in splits.items():
        order = rng.permutation(len(entries))  # the release's lists are shuffled
        with open(root / 'train_test_split' / f'shuffled_{split}_file_list.json', 'w') as f:
            json.dump([entries[i] for i in order], f)
    return dict(train=dict(data_root=str(root), split='trainval'),
                val=dict(data_root=str(root), split='test'),
                shapes=dict(train=shapes['train'] + shapes['val'], val=shapes['test']),
                num_classes=16, num_parts=50)


def write_partnet(root: PathLike, category: str = 'Chair', level: int = 1, num_classes: int = 4,
                  per_split: Tuple[int, int, int] = (4, 2, 2), num_points: int = 256,
                  train_files: int = 2, seed: int = 0,
                  part_names: Optional[Sequence[str]] = None) -> dict:
    """PartNet's ``sem_seg_h5/<Category>-<level>/{train,val,test}-XX.h5`` (``data`` (B, N, 3)
    float32, ``label_seg`` (B, N), ``data_num`` (B,); the release has N = 10000) plus the
    ``stats/after_merging_label_ids/<Category>-level-<l>.txt`` label file. Label 0 ("other") is
    the bottom band of each shape, parts 1..K-1 the bands above.

    Returns:
        ``train`` / ``val`` / ``test``: ``PartNetDataset`` kwargs; ``label_file``; ``arrays``:
        per split ``(points, labels)`` stacked as in the files; ``num_classes``.
    """
    import h5py
    root = Path(root)
    rng = np.random.default_rng(seed)
    folder = root / f'{category}-{level}'
    folder.mkdir(parents=True, exist_ok=True)
    part_names = list(part_names or [f'{category.lower()}/part_{k}'
                                     for k in range(1, num_classes)])
    stats = root / 'stats' / 'after_merging_label_ids' / f'{category}-level-{level}.txt'
    stats.parent.mkdir(parents=True, exist_ok=True)
    stats.write_text(''.join(f'{k} {name} leaf\n' for k, name in enumerate(part_names, start=1)))
    arrays = {}
    for split, count in zip(('train', 'val', 'test'), per_split):
        points, labels = [], []
        for i in range(count):
            xyz, _ = surface_points(i % 3, num_points, rng)
            band = np.argsort(np.argsort(xyz[:, 2])) * num_classes // num_points
            points.append(xyz.astype(np.float32))
            labels.append(band.astype(np.int64))
        points, labels = np.stack(points), np.stack(labels)
        arrays[split] = (points, labels)
        chunks = np.array_split(np.arange(count), train_files if split == 'train' else 1)
        for j, chunk in enumerate(chunks):
            with h5py.File(folder / f'{split}-{j:02d}.h5', 'w') as f:
                f.create_dataset('data', data=points[chunk])
                f.create_dataset('label_seg', data=labels[chunk])
                f.create_dataset('data_num', data=np.full(len(chunk), num_points, np.int32))
    common = dict(data_root=str(root), category=category, level=level, num_classes=num_classes)
    return dict(train=dict(split='train', **common), val=dict(split='val', **common),
                test=dict(split='test', **common), label_file=str(stats), arrays=arrays,
                num_classes=num_classes)


def write_shapenet55(root: PathLike, taxonomies: Sequence[str] = ('02691156', '03001627',
                                                                    '04379231'),
                     per_split: Tuple[int, int] = (2, 1), num_points: int = 8192,
                     seed: int = 0) -> dict:
    """Point-MAE's ``data/ShapeNet55-34`` layout: ``ShapeNet-55/{train,test}.txt`` listing
    ``<taxonomy id>-<model id>.npy`` and ``shapenet_pc/<entry>`` float32 arrays
    ``(num_points, 3)`` (8192 in the release). The i-th taxonomy (ShapeNet synsets: airplane,
    chair, table by default) is a sphere, cube or cylinder.

    Returns:
        ``train`` / ``val``: ``ShapeNet55Dataset`` kwargs (val = the test list); ``files``: the
        point files per split, in list order; ``arrays``: their points; ``num_classes``: the
        number of taxonomies (the dataset itself has no labels).
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    (root / 'ShapeNet-55').mkdir(parents=True, exist_ok=True)
    (root / 'shapenet_pc').mkdir(exist_ok=True)
    files = {'train': [], 'test': []}
    arrays = {'train': [], 'test': []}
    for kind, taxonomy_id in enumerate(taxonomies):
        for split, count in zip(('train', 'test'), per_split):
            for _ in range(count):
                model_id = ''.join(rng.choice(list('0123456789abcdef'), 32))
                xyz = surface_points(kind, num_points, rng)[0].astype(np.float32)
                path = root / 'shapenet_pc' / f'{taxonomy_id}-{model_id}.npy'
                np.save(path, xyz)
                files[split].append(str(path))
                arrays[split].append(xyz)
    for split, paths in files.items():
        (root / 'ShapeNet-55' / f'{split}.txt').write_text(
            ''.join(f'{Path(p).name}\n' for p in paths))
    return dict(train=dict(data_root=str(root), split='train'),
                val=dict(data_root=str(root), split='test'),
                files=dict(train=files['train'], val=files['test']),
                arrays=dict(train=arrays['train'], val=arrays['test']),
                num_classes=len(taxonomies))


# --------------------------------------------------------------------------------------------
# RGB-D


def write_rgbd(root: PathLike, num_classes: int = 2, per_class: Tuple[int, int] = (2, 1),
               size: Tuple[int, int] = (24, 32), depth_encoding: str = 'mm', seed: int = 0) -> dict:
    """``DepthImageDataset``'s layout: ``rgb/<split>_<i>.png``, ``depth/<split>_<i>.png`` (16-bit,
    millimetres, or SUN RGB-D's bit-rotated millimetres with ``depth_encoding='sunrgbd'``),
    ``train.txt`` / ``test.txt`` lines ``<rgb> <depth> <label>`` and ``classes.txt``. Class ``k``
    is a scene whose floor recedes towards the top with a wall at ``1 + k`` metres.

    Returns:
        ``train`` / ``val``: ``DepthImageDataset`` kwargs (val = the test list); ``depth_mm``:
        per split the written depth maps in millimetres; ``labels``; ``num_classes``; ``classes``.
    """
    from PIL import Image
    root = Path(root)
    rng = np.random.default_rng(seed)
    for sub in ('rgb', 'depth'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    classes = tuple(f'scene_{k}' for k in range(num_classes))
    (root / 'classes.txt').write_text('\n'.join(classes) + '\n')
    h, w = size
    out = dict(depth_mm={}, labels={})
    for split, count, list_name in zip(('train', 'val'), per_class, ('train.txt', 'test.txt')):
        lines, maps, labels = [], [], []
        for label in range(num_classes):
            for _ in range(count):
                i = len(lines)
                rows = np.linspace(1.0 + label, 0.5, h)[:, None] * np.ones((1, w))
                depth_mm = (1000 * (rows + rng.uniform(0, 0.05, (h, w)))).astype(np.uint16)
                stored = depth_mm if depth_encoding == 'mm' else \
                    ((depth_mm << 3) | (depth_mm >> 13)).astype(np.uint16)
                rgb = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
                rgb[..., label % 3] = 200
                Image.fromarray(rgb).save(root / 'rgb' / f'{split}_{i}.png')
                Image.fromarray(stored).save(root / 'depth' / f'{split}_{i}.png')
                lines.append(f'rgb/{split}_{i}.png depth/{split}_{i}.png {label}')
                maps.append(depth_mm)
                labels.append(label)
        (root / list_name).write_text('\n'.join(lines) + '\n')
        out['depth_mm'][split], out['labels'][split] = maps, labels
    common = dict(data_root=str(root), classes=str(root / 'classes.txt'))
    return dict(out, train=dict(ann_file='train.txt', **common),
                val=dict(ann_file='test.txt', **common), num_classes=num_classes, classes=classes)


WRITERS = dict(audioset=write_audioset, esc50=write_esc50, kinetics=write_kinetics,
               modelnet40=write_modelnet40, shapenetpart=write_shapenetpart, partnet=write_partnet,
               shapenet55=write_shapenet55, rgbd=write_rgbd, text=write_text_cls)
