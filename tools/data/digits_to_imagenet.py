"""Write scikit-learn's 1,797 real 8×8 digit scans as an ImageNet-style image folder.

The digits ship inside scikit-learn (``sklearn.datasets.load_digits``), so nothing is downloaded.
Each 8×8 scan (values 0..16) is scaled to 0..255, upscaled (bicubic) to ``size``×``size`` and saved
as an RGB PNG. The split is stratified and fixed by ``seed`` (a numpy ``default_rng``, so it does
not depend on the scikit-learn version)::

    OUT/train/<class>/<index>.png    OUT/val/<class>/<index>.png
    OUT/meta/train.txt               OUT/meta/val.txt      lines "<class>/<index>.png <label>",
                                                           relative to train/ or val/ (ImageNet's)
    OUT/classes.txt                  one class name per line ('0' .. '9'), line i = label i

``<index>`` is the sample's position in ``load_digits()`` (5 digits), so names are stable.

Usage::

    python tools/data/digits_to_imagenet.py work_dirs/demo/data/digits
"""
import argparse
import os
from typing import Dict, Sequence, Tuple

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
                          seed: int = 0) -> Dict[str, int]:
    """Write the digits in ImageNet folder format under ``out_dir`` (see the module docstring).

    Returns:
        The number of images written per split, e.g. ``{'train': 1437, 'val': 360}``.
    """
    images, labels = load_digit_scans()
    if len(images) != NUM_DIGITS:
        raise RuntimeError(f'expected {NUM_DIGITS} digit scans from scikit-learn, '
                           f'got {len(images)}')
    class_names = [str(c) for c in range(int(labels.max()) + 1)]
    splits = dict(zip(('train', 'val'), stratified_split(labels, val_size, seed)))
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out_dir', help='output folder (train/, val/, meta/, classes.txt)')
    parser.add_argument('--size', type=int, default=32, help='image side in pixels (default 32)')
    parser.add_argument('--val-size', type=int, default=DEFAULT_VAL_SIZE,
                        help=f'validation images (default {DEFAULT_VAL_SIZE})')
    parser.add_argument('--seed', type=int, default=0, help='split seed (default 0)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    counts = write_digits_imagenet(args.out_dir, args.size, args.val_size, args.seed)
    print(f'wrote {counts} digit images ({args.size}x{args.size} RGB PNG) to {args.out_dir}')


if __name__ == '__main__':
    main()
