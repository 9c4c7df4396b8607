"""Synthesise audio clips and write their log-mel spectrograms as a flat folder of grey PNGs
(the demo's auxiliary modality; the writer is :mod:`m2pt_mm.testing.spectrograms`).

Usage::

    python tools/data/synth_spectrograms.py work_dirs/demo/data/spectrograms --num 2000
"""
import argparse

from m2pt_mm.testing.spectrograms import write_spectrograms


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out_dir', help='output folder (flat, PNG files)')
    parser.add_argument('--num', type=int, default=2000, help='number of clips (default 2000)')
    parser.add_argument('--size', type=int, default=32, help='image side in pixels (default 32)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    n = write_spectrograms(args.out_dir, args.num, args.seed, args.size)
    print(f'wrote {n} log-mel spectrograms ({args.size}x{args.size} grey PNG) to {args.out_dir}')


if __name__ == '__main__':
    main()
