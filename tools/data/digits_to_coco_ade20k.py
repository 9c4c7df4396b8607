"""Write tiny COCO-format instance-segmentation and ADE20K-format semantic-segmentation sets made
of scikit-learn's real 8×8 digit scans pasted onto noisy canvases (the writer and the format
details: :func:`m2pt_mm.testing.digits.write_digit_scenes`).

Usage::

    python tools/data/digits_to_coco_ade20k.py data/digits_scenes --num-train 64 --num-val 16
"""
import argparse

from m2pt_mm.testing.digits import write_digit_scenes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out_dir', help='output folder (coco/ and ade/ are written in it)')
    parser.add_argument('--num-train', type=int, default=64, help='training scenes (default 64)')
    parser.add_argument('--num-val', type=int, default=16, help='validation scenes (default 16)')
    parser.add_argument('--seed', type=int, default=0, help='seed (default 0)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    counts = write_digit_scenes(args.out_dir, args.num_train, args.num_val, args.seed)
    print(f'wrote {counts} to {args.out_dir}/coco and {args.out_dir}/ade')


if __name__ == '__main__':
    main()
