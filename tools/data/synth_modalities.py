"""Write tiny synthetic datasets in the real on-disk formats of AudioSet, ESC-50, Kinetics-400,
ModelNet40, ShapeNetPart, PartNet, ShapeNet-55 and RGB-D lists (the writers:
:mod:`m2pt_mm.testing.modalities`).

Usage::

    python tools/data/synth_modalities.py data/tiny              # every set, data/tiny/<name>/
    python tools/data/synth_modalities.py data/tiny --sets audioset shapenetpart
"""
from pathlib import Path

from m2pt_mm.testing.modalities import WRITERS


def main() -> None:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out_dir', help='each set is written to OUT_DIR/<name>/')
    parser.add_argument('--sets', nargs='+', choices=sorted(WRITERS), default=sorted(WRITERS))
    args = parser.parse_args()
    for name in args.sets:
        info = WRITERS[name](Path(args.out_dir) / name)
        print(f'{name}: wrote {Path(args.out_dir) / name} ({info.get("num_classes")} classes)')


if __name__ == '__main__':
    main()
