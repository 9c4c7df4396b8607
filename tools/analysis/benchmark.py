"""Benchmark M2PT's training and inference cost against a plain ViT: the command line of
:func:`m2pt_mm.analysis.benchmark.run_benchmark` (what is measured, and how: its module's
docstring and ``docs/benchmarks.md``).

Example:
    python tools/analysis/benchmark.py                        # ViT-B/16, 224², CPU, batch 8 and 32
    python tools/analysis/benchmark.py --no-recompute         # skip the recompute=True variant
    python tools/analysis/benchmark.py --device cuda --amp bf16 --batch-sizes 64 128
    python tools/analysis/benchmark.py --quick --out-dir /tmp/bench   # tiny model, seconds
"""
import argparse
from typing import Any, Dict, Optional, Sequence

import torch

from m2pt_mm.analysis.benchmark import (
    DEFAULT_BATCH_SIZES,
    PARTS,
    PRECISIONS,
    SETTINGS,
    run_benchmark,
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark M2PT's training and inference cost against a plain ViT.")
    parser.add_argument('--arch', default='base',
                        help="mmpretrain ViT arch ('base', 'small', 'deit-tiny', ...) or 'tiny'")
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--patch-size', type=int, default=16)
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=None,
                        help='training batches (default: 8 32 on CPU, 64 128 on CUDA)')
    parser.add_argument('--steps', type=int, default=3,
                        help='measured rounds; each times every model with one blocked_autorange')
    parser.add_argument('--warmup', type=int, default=0,
                        help='train steps per model before the first round (the Timer already '
                        'runs each statement once to size its blocks, which warms it up)')
    parser.add_argument('--min-run-time', type=float, default=1.0,
                        help='seconds of timed blocks per measurement (Timer.blocked_autorange); '
                        'a statement slower than this is timed once per round')
    parser.add_argument('--amp', choices=PRECISIONS, default='fp32',
                        help='bf16: forward and loss under torch.autocast(dtype=torch.bfloat16)')
    parser.add_argument('--settings', nargs='+', choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS))
    parser.add_argument('--infer-batch-size', type=int, default=None,
                        help='inference batch (default: the smallest of --batch-sizes)')
    parser.add_argument('--mem-batch-size', type=int, default=None,
                        help='batch of the memory measurement (default: smallest of --batch-sizes)')
    parser.add_argument('--no-recompute', dest='recompute', action='store_false',
                        help='skip the M2PT variant with recompute=True (measured by default: the '
                        'memory/time trade-off decides the default of the pathway option)')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--judge', choices=('min', 'median'), default='min',
                        help='statistic the targets are judged on (min: least disturbed by load)')
    parser.add_argument('--out-dir', default='work_dirs/benchmark')
    parser.add_argument('--quick', action='store_true',
                        help='a check that everything runs: tiny arch, 32² images, batch 2, 2 '
                        'rounds of 0.05 s, 1 thread (unless --threads), with the recompute variant')
    args = parser.parse_args(argv)
    if args.quick:
        args.arch, args.img_size, args.patch_size = 'tiny', 32, 8
        args.batch_sizes, args.steps, args.warmup, args.recompute = [2], 2, 1, True
        args.min_run_time = 0.05
        # one thread: OpenMP barriers on a busy machine would make tiny ops take milliseconds
        args.threads = args.threads or 1
    if args.steps < 1 or args.warmup < 0 or args.min_run_time <= 0:
        parser.error(f'expected --steps >= 1, --warmup >= 0 and --min-run-time > 0, got '
                     f'{args.steps}, {args.warmup} and {args.min_run_time}')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error(f'--device cuda, but torch {torch.__version__} sees no CUDA device')
    args.batch_sizes = args.batch_sizes or DEFAULT_BATCH_SIZES[args.device]
    args.infer_batch_size = args.infer_batch_size or min(args.batch_sizes)
    args.mem_batch_size = args.mem_batch_size or min(args.batch_sizes)
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    return run_benchmark(parse_args(argv))


if __name__ == '__main__':
    main()
