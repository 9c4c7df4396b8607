"""One training step of a full-size config on CPU: how long it takes and the process's peak RSS
(the command line of :mod:`m2pt_mm.analysis.full_size_step`; what is built and fed: its
docstring).

Usage::

    python tools/analysis/full_size_step.py \\
        configs/detection/mask-rcnn_m2pt-vit-base-p16-point_mae-pre_16xb4-amp-lsj-100e_coco.py
    python tools/analysis/full_size_step.py CONFIG --batch-size 2 --steps 2 --out step.json
"""
import argparse
import json
import time
from typing import Any, Dict, Optional, Sequence

import torch
from mmengine.config import Config, DictAction

from m2pt_mm.analysis.full_size_step import peak_rss_mib, prepare, synthetic_batch


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="One training step of a full-size config on CPU: time and peak RSS.")
    parser.add_argument('config', help='config file (mmpretrain, mmdet or mmseg)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--steps', type=int, default=1,
                        help='steps to time (the first also allocates the optimiser state)')
    parser.add_argument('--input-shape', type=int, nargs='+',
                        help='per-sample input shape, e.g. 3 512 512 (default: the configured one)')
    parser.add_argument('--threads', type=int, help='torch CPU threads (default: torch\'s)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.backbone.pathway.recompute=True')
    parser.add_argument('--out', help='also write the figures as JSON to this file')
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.steps < 1:
        parser.error(f'expected --batch-size >= 1 and --steps >= 1, got {args.batch_size} and '
                     f'{args.steps}')
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model, optim_wrapper = prepare(cfg)
    data = synthetic_batch(cfg, model, args.batch_size, args.input_shape)
    shape = tuple(data['inputs'][0].shape)
    built_mib = peak_rss_mib()
    seconds, losses = [], []
    for _ in range(args.steps):
        start = time.perf_counter()
        log = model.train_step(data, optim_wrapper)
        seconds.append(time.perf_counter() - start)
        losses.append(log['loss'].item())
    result = dict(config=args.config, batch_size=args.batch_size, input_shape=list(shape),
                  threads=torch.get_num_threads(), step_s=seconds, loss=losses,
                  peak_rss_after_build_mib=built_mib, peak_rss_mib=peak_rss_mib(),
                  params=sum(p.numel() for p in model.parameters()), torch=torch.__version__)
    print(f'{args.config}: batch {args.batch_size} × {shape} on CPU ({result["threads"]} threads), '
          f'{result["params"] / 1e6:.1f} M parameters')
    for i, (s, loss) in enumerate(zip(seconds, losses)):
        print(f'  step {i + 1}: {s:.1f} s, loss {loss:.4f}')
    print(f'  peak RSS: {built_mib:.0f} MiB after building, {result["peak_rss_mib"]:.0f} MiB '
          'after the step(s) (the whole process)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
