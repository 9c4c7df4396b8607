"""Write scikit-learn's 1,797 real 8×8 digit scans as an ImageNet-style image folder (the writer
is :func:`m2pt_mm.testing.digits.write_digits_imagenet`).

Usage::

    python tools/data/digits_to_imagenet.py work_dirs/demo/data/digits
"""
import argparse

from m2pt_mm.testing.digits import DEFAULT_VAL_SIZE, write_digits_imagenet


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
