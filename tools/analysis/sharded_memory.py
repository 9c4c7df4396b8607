"""Peak memory per rank and step time of an M2PT classifier under DDP, FSDP1 and FSDP2, with and
without the pathway's ``recompute``: the command line of
:func:`m2pt_mm.analysis.sharded_memory.run` (what is measured, and how: its module docstring).

Each configuration runs in ``--nproc`` fresh processes (gloo on CPU, NCCL on CUDA) and prints one
row of a markdown table (the largest figure over the ranks).

Examples:
    python tools/analysis/sharded_memory.py                       # tiny ViT, 2 CPU processes
    python tools/analysis/sharded_memory.py --arch small --img-size 64 --batch-size 8
    python tools/analysis/sharded_memory.py --device cuda --arch large --img-size 224 \\
        --patch-size 16 --batch-size 32 --nproc 1 --out vit-l.json
    python tools/analysis/sharded_memory.py --saved-for-backward --arch large --img-size 224 \
        --patch-size 16                                           # one ViT-L block, 1 process
"""
import argparse
import json
from typing import Any, Dict, List, Optional, Sequence

from m2pt_mm.utils.cli_checks import run_main

STRATEGIES = ('ddp', 'fsdp', 'fsdp2')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', default='tiny',
                        help="mmpretrain ViT arch ('small', 'base', 'large', 'huge') or 'tiny' "
                        '(4 blocks x 64 dims)')
    parser.add_argument('--img-size', type=int, default=32)
    parser.add_argument('--patch-size', type=int, default=8)
    parser.add_argument('--batch-size', type=int, default=4, help='images per rank')
    parser.add_argument('--steps', type=int, default=4, help='measured steps')
    parser.add_argument('--warmup', type=int, default=2, help='steps before the measured ones')
    parser.add_argument('--nproc', type=int, default=2, help='processes (ranks)')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads per process')
    parser.add_argument('--strategies', nargs='+', choices=STRATEGIES, default=list(STRATEGIES))
    parser.add_argument('--recompute', nargs='+', choices=('off', 'on'), default=['off', 'on'])
    parser.add_argument('--out', help='also write the results as JSON to this file')
    parser.add_argument('--saved-for-backward', action='store_true',
                        help='instead: what autograd keeps for backward in one block of --arch '
                        '(one process, batch 1 and 2, recompute off and on), the per-block '
                        'figure the arithmetic for a full model starts from')
    args = parser.parse_args(argv)
    if min(args.steps, args.warmup, args.nproc, args.batch_size, args.threads) < 1:
        parser.error('--steps, --warmup, --nproc, --batch-size and --threads must be >= 1')
    return args


def main(argv: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    """Measure as the command line says; print the table; return the results."""
    args = parse_args(argv)
    import torch

    from m2pt_mm.analysis.sharded_memory import TINY_ARCH, run, saved_for_backward, table
    arch = TINY_ARCH if args.arch == 'tiny' else args.arch
    if args.saved_for_backward:
        rows = [dict(recompute=r, batch_size=b, **saved_for_backward(
            arch, args.img_size, args.patch_size, r == 'on', b))
            for r in args.recompute for b in (1, 2)]
        print(f'one block of arch {args.arch}, {args.img_size}² images in {args.patch_size}² '
              'patches, fp32: MB saved for backward\n\n| recompute | batch | activations | '
              'merged weights W + λW′ |\n|---|---|---|---|')
        for row in rows:
            print(f"| {row['recompute']} | {row['batch_size']} | {row['activations_mb']:.2f} | "
                  f"{row['merged_weights_mb']:.2f} |")
        return rows
    if args.device == 'cuda' and torch.cuda.device_count() < args.nproc:
        raise ValueError(f'--device cuda --nproc {args.nproc}: torch sees '
                         f'{torch.cuda.device_count()} CUDA device(s)')
    results = run(args.strategies, [r == 'on' for r in args.recompute],
                  arch=arch, img_size=args.img_size,
                  patch_size=args.patch_size, batch_size=args.batch_size, steps=args.steps,
                  warmup=args.warmup, nproc=args.nproc, device=args.device, threads=args.threads)
    print(table(results, f'{args.nproc} processes x {args.threads} thread(s) on {args.device}, '
                         f'arch {args.arch}, {args.img_size}² images in {args.patch_size}² '
                         f'patches, batch {args.batch_size} per rank, AdamW; mean of '
                         f'{args.steps} steps after {args.warmup}'))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    run_main(main, 'sharded_memory.py')
