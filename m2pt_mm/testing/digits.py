"""scikit-learn's 1,797 real 8×8 digit scans as an ImageNet-style folder
(:func:`write_digits_imagenet`) and pasted into COCO / ADE20K scenes (:func:`write_digit_scenes`).

The digits ship inside scikit-learn (``sklearn.datasets.load_digits``), so nothing is downloaded.
Each 8×8 scan (values 0..16) is scaled to 0..255, upscaled (bicubic) to ``size``×``size`` and saved
as an RGB PNG. The split is stratified and fixed by ``seed`` (a numpy ``default_rng``, so it does
not depend on the scikit-learn version)::

    OUT/train/<class>/<index>.png    OUT/val/<class>/<index>.png   (OUT/test/..., with test_size)
    OUT/meta/train.txt               OUT/meta/val.txt      lines "<class>/<index>.png <label>",
                                                           relative to train/ or val/ (ImageNet's)
    OUT/classes.txt                  one class name per line ('0' .. '9'), line i = label i

``<index>`` is the sample's position in ``load_digits()`` (5 digits), so names are stable.

Command lines: ``python tools/data/digits_to_imagenet.py OUT``,
``python tools/data/digits_to_coco_ade20k.py OUT``.
"""
import json
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

NUM_DIGITS = 1797
DEFAULT_VAL_SIZE = 360


def load_digit_scans() -> Tuple[np.ndarray, np.ndarray]:
    """The 1,797 digit scans as uint8 images [N, 8, 8] (0..255) and their labels [N] (0..9)."""
    from sklearn.datasets import load_digits  # only this tool needs scikit-learn
    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    return images, digits.target.astype(np.int64)


def stratified_split(labels: Sequence[int], val_size: int = DEFAULT_VAL_SIZE,
                     seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Indices (train, val), both sorted, with exactly ``val_size`` val samples spread over the
    classes in proportion to their frequency (largest remainder; ties to the smaller label)."""
    labels = np.asarray(labels)
    if not 0 < val_size < len(labels):
        raise ValueError(f'val_size must be in (0, {len(labels)}), got {val_size}')
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * val_size / len(labels)
    per_class = np.floor(quota).astype(int)
    order = np.argsort(-(quota - per_class), kind='stable')
    per_class[order[:val_size - per_class.sum()]] += 1
    rng = np.random.default_rng(seed)
    val = [rng.permutation(np.flatnonzero(labels == c))[:n] for c, n in zip(classes, per_class)]
    val_idx = np.sort(np.concatenate(val))
    train_idx = np.setdiff1d(np.arange(len(labels)), val_idx)
    return train_idx, val_idx


def upscale(scan: np.ndarray, size: int) -> Image.Image:
    """One 8×8 uint8 scan as a ``size``×``size`` RGB image (bicubic; grey replicated to RGB)."""
    return Image.fromarray(scan).resize((size, size), Image.BICUBIC).convert('RGB')


def write_digits_imagenet(out_dir: str, size: int = 32, val_size: int = DEFAULT_VAL_SIZE,
                          seed: int = 0, test_size: int = 0) -> Dict[str, int]:
    """Write the digits in ImageNet folder format under ``out_dir`` (see the module docstring).

    Args:
        test_size: With a positive value, a third stratified split ``test/`` and
            ``meta/test.txt`` is held out of the training images (the val split is the same as
            without it).

    Returns:
        The number of images written per split, e.g. ``{'train': 1437, 'val': 360}``.
    """
    images, labels = load_digit_scans()
    if len(images) != NUM_DIGITS:
        raise RuntimeError(f'expected {NUM_DIGITS} digit scans from scikit-learn, '
                           f'got {len(images)}')
    class_names = [str(c) for c in range(int(labels.max()) + 1)]
    splits = dict(zip(('train', 'val'), stratified_split(labels, val_size, seed)))
    if test_size:
        rest, held = stratified_split(labels[splits['train']], test_size, seed + 1)
        splits['train'], splits['test'] = splits['train'][rest], splits['train'][held]
    os.makedirs(os.path.join(out_dir, 'meta'), exist_ok=True)
    with open(os.path.join(out_dir, 'classes.txt'), 'w') as f:
        f.write(''.join(f'{name}\n' for name in class_names))
    counts = {}
    for split, indices in splits.items():
        lines = []
        for name in class_names:
            os.makedirs(os.path.join(out_dir, split, name), exist_ok=True)
        for i in indices:
            label = int(labels[i])
            rel = f'{class_names[label]}/{i:05d}.png'
            upscale(images[i], size).save(os.path.join(out_dir, split, rel))
            lines.append(f'{rel} {label}\n')
        with open(os.path.join(out_dir, 'meta', f'{split}.txt'), 'w') as f:
            f.write(''.join(lines))
        counts[split] = len(indices)
    return counts


# ---------------------------------------------------------------- digit scenes (COCO, ADE20K)
INK = 96  #: an upscaled pixel brighter than this (0..255) is the digit's ink: its mask
CLASSES = tuple(f'digit-{d}' for d in range(10))
#: one colour per digit class (RGB), for mmdet / mmseg visualisers
PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 190))


def _canvas(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A dark grey RGB canvas with smooth noise, so the background is not trivially constant."""
    import cv2
    coarse = rng.uniform(10, 60, size=(max(height // 16, 2), max(width // 16, 2), 3))
    noise = cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(noise + rng.normal(0, 4, size=noise.shape), 0, 255).astype(np.uint8)


def _place(rng: np.random.Generator, taken: np.ndarray, side: int) -> Tuple[int, int]:
    """Top-left corner of a free ``side``×``side`` square, or (-1, -1) after 50 tries."""
    height, width = taken.shape
    for _ in range(50):
        y, x = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
        if not taken[y:y + side, x:x + side].any():
            return y, x
    return -1, -1


def make_scene(rng: np.random.Generator, scans: np.ndarray, labels: np.ndarray,
               pool: Sequence[int], size: Tuple[int, int], max_digits: int = 4,
               side_range: Tuple[int, int] = (20, 48)) -> Tuple[np.ndarray, np.ndarray, List[dict]]:
    """One scene: RGB image, instance map (0 = none, k = instance k) and its instances.

    Returns:
        ``(image [H, W, 3] uint8, instance_map [H, W] int32, instances)``, each instance a dict
        with ``label`` and ``mask`` ([H, W] bool).
    """
    height, width = size
    image = _canvas(rng, height, width)
    instance_map = np.zeros((height, width), np.int32)
    taken = np.zeros((height, width), bool)
    instances = []
    for _ in range(int(rng.integers(1, max_digits + 1))):
        side = int(rng.integers(side_range[0], side_range[1] + 1))
        y, x = _place(rng, taken, side)
        if y < 0:
            break
        index = int(pool[rng.integers(len(pool))])
        scan = np.asarray(Image.fromarray(scans[index]).resize((side, side), Image.BICUBIC))
        ink = scan > INK
        if ink.sum() < 4:
            continue
        colour = rng.uniform(150, 255, size=3)
        alpha = (scan.astype(np.float32) / 255.)[..., None]
        patch = image[y:y + side, x:x + side].astype(np.float32)
        image[y:y + side, x:x + side] = np.clip(alpha * colour + (1 - alpha) * patch, 0, 255)
        taken[y:y + side, x:x + side] = True
        mask = np.zeros((height, width), bool)
        mask[y:y + side, x:x + side] = ink
        instances.append(dict(label=int(labels[index]), mask=mask))
        instance_map[mask] = len(instances)
    return image, instance_map, instances


def mask_to_coco(mask: np.ndarray) -> Tuple[List[List[float]], List[float], float]:
    """COCO polygons (outer contours, ≥ 3 points), bbox ``[x, y, w, h]`` and polygon area."""
    import cv2
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polygons = [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]
    if not polygons:
        return [], [], 0.
    points = np.concatenate([np.asarray(p).reshape(-1, 2) for p in polygons])
    x0, y0 = points.min(0)
    x1, y1 = points.max(0)
    area = float(sum(cv2.contourArea(c) for c in contours if len(c) >= 3))
    return polygons, [float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1)], area


def write_digit_scenes(out_dir: str, num_train: int = 64, num_val: int = 16, seed: int = 0,
                       sizes: Sequence[Tuple[int, int]] = ((128, 128), (112, 144), (144, 112)),
                       max_digits: int = 4, side_range: Tuple[int, int] = (20, 48),
                       digits: Optional[Sequence[int]] = None) -> Dict[str, int]:
    """Write tiny COCO-format instance-segmentation and ADE20K-format semantic-segmentation sets
    made of scikit-learn's real 8×8 digit scans pasted onto noisy canvases.

    Each scene is a grey canvas with low-frequency noise and 1–``max_digits`` non-overlapping
    digits, each upscaled (bicubic) to a random side in ``side_range`` and pasted where its ink
    is. A digit's mask is its ink (upscaled value above ``INK``), so boxes, polygons and label maps
    all come from the same pixels. Category ``d`` is the digit ``d`` (names ``digit-0`` …
    ``digit-9``). Layout::

        OUT/coco/train/000000.jpg ...  OUT/coco/val/...
        OUT/coco/annotations/instances_train.json    instances_val.json
            images (id, file_name, width, height), annotations (id, image_id, category_id,
            bbox [x, y, w, h], segmentation [polygons], area = polygon area, iscrowd 0), categories
        OUT/ade/images/training/ADE_train_00000000.jpg      OUT/ade/images/validation/...
        OUT/ade/annotations/training/ADE_train_00000000.png  (uint8 label map: 0 = background /
            "other", digit d = d + 1, as ADE20K's 0 = other and 1..150 = classes)

    Both sets are drawn from the same scenes (COCO and ADE use their own splits of digit scans: the
    stratified split of :func:`write_digits_imagenet`), so a seed reproduces them exactly.

    Args:
        out_dir: Output folder (``coco/`` and ``ade/`` are created in it).
        num_train: Training scenes.
        num_val: Validation scenes.
        seed: Seed of the scenes and of the digit split.
        sizes: Scene sizes ``(H, W)`` cycled through, so batches need padding.
        max_digits: Most digits per scene (each scene has 1 to ``max_digits``).
        side_range: Smallest and largest side of a pasted digit, in pixels (inclusive).
        digits: The digit classes pasted (default all ten); the categories stay all ten.

    Returns:
        Counts, e.g. ``{'train_images': 64, 'train_instances': 161, ...}``.
    """
    scans, labels = load_digit_scans()
    pools = dict(zip(('train', 'val'), stratified_split(labels, seed=seed)))
    if digits is not None:
        if not set(digits) <= set(range(len(CLASSES))):
            raise ValueError(f'digits must be in 0..{len(CLASSES) - 1}, got {list(digits)}')
        pools = {split: pool[np.isin(labels[pool], digits)] for split, pool in pools.items()}
    rng = np.random.default_rng(seed)
    counts = {}
    for split, num, ade_split in (('train', num_train, 'training'), ('val', num_val, 'validation')):
        coco_img_dir = os.path.join(out_dir, 'coco', split)
        ade_img_dir = os.path.join(out_dir, 'ade', 'images', ade_split)
        ade_ann_dir = os.path.join(out_dir, 'ade', 'annotations', ade_split)
        coco_ann_dir = os.path.join(out_dir, 'coco', 'annotations')
        for d in (coco_img_dir, ade_img_dir, ade_ann_dir, coco_ann_dir):
            os.makedirs(d, exist_ok=True)
        images, annotations = [], []
        for i in range(num):
            height, width = sizes[i % len(sizes)]
            image, _, instances = make_scene(rng, scans, labels, pools[split], (height, width),
                                             max_digits, side_range)
            name = f'{i:06d}.jpg'
            Image.fromarray(image).save(os.path.join(coco_img_dir, name), quality=95)
            images.append(dict(id=i + 1, file_name=name, width=width, height=height))
            label_map = np.zeros((height, width), np.uint8)
            for inst in instances:
                label_map[inst['mask']] = inst['label'] + 1
                polygons, bbox, area = mask_to_coco(inst['mask'])
                if not polygons:
                    continue
                annotations.append(dict(id=len(annotations) + 1, image_id=i + 1,
                                        category_id=inst['label'] + 1, bbox=bbox,
                                        segmentation=polygons, area=area, iscrowd=0))
            ade_name = f'ADE_{split}_{i:08d}'
            Image.fromarray(image).save(os.path.join(ade_img_dir, ade_name + '.jpg'), quality=95)
            Image.fromarray(label_map).save(os.path.join(ade_ann_dir, ade_name + '.png'))
        categories = [dict(id=d + 1, name=name, supercategory='digit')
                      for d, name in enumerate(CLASSES)]
        with open(os.path.join(coco_ann_dir, f'instances_{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
        counts[f'{split}_images'] = num
        counts[f'{split}_instances'] = len(annotations)
    return counts


def write_train_subset(digits_dir: str, fraction: float, seed: int = 0) -> Tuple[str, int]:
    """Write a stratified ``fraction`` of ``meta/train.txt`` to ``meta/train-<pct>pct.txt`` (fixed
    by ``seed``, at least one image per class); return that file (relative to ``digits_dir``) and
    its number of images."""
    if not 0 < fraction < 1:
        raise ValueError(f'fraction must be in (0, 1), got {fraction}')
    with open(os.path.join(digits_dir, 'meta', 'train.txt')) as f:
        lines = f.read().splitlines()
    labels = [int(line.rsplit(' ', 1)[1]) for line in lines]
    count = max(len(set(labels)), round(fraction * len(lines)))
    _, keep = stratified_split(labels, count, seed)
    ann_file = f'meta/train-{round(fraction * 100)}pct.txt'
    with open(os.path.join(digits_dir, ann_file), 'w') as f:
        f.write(''.join(lines[i] + '\n' for i in keep))
    return ann_file, len(keep)
