"""Train a model from an mmpretrain, mmdet or mmseg config (mmengine Runner).

Examples:
    python tools/train.py configs/demo/CONFIG.py --work-dir work_dirs/run
    python tools/train.py CONFIG --resume                 # from work_dir/last_checkpoint
    python tools/train.py CONFIG --resume work_dirs/run/epoch_2.pth
    bash tools/dist_train.sh CONFIG 8 [args]               # torchrun, 8 processes
"""
import argparse
import sys
from typing import TYPE_CHECKING, Optional, Sequence

# torch and the OpenMMLab stack are imported after the arguments are checked
from m2pt_mm.utils.cli_checks import add_common_args, require_file, run_main

if TYPE_CHECKING:
    from mmengine.config import Config
    from mmengine.runner import Runner


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model (m2pt_mm)')
    parser.add_argument('config', help='config file path')
    add_common_args(parser)
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CHECKPOINT, or without a value from the latest '
                        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual batch size / auto_scale_lr.base_batch_size')
    parser.add_argument('--no-validate', action='store_true', help='skip validation during training')
    args = parser.parse_args(argv)
    require_file(parser, args.config, 'config')
    return args


def merge_args(cfg: 'Config', args: argparse.Namespace) -> 'Config':
    from m2pt_mm.checkpoints import check_checkpoint_file
    from m2pt_mm.engine.cli import (allow_zero_aux_before_loading, check_resumable,
                                    find_resume_checkpoint)
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper == 'OptimWrapper':
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        elif wrapper != 'AmpOptimWrapper':
            raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper or AmpOptimWrapper, '
                             f'got {wrapper}')
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    will_load = cfg.get('load_from') is not None
    if args.resume == 'auto':
        checkpoint = find_resume_checkpoint(cfg.work_dir, warn=lambda m: print(m, file=sys.stderr))
        if checkpoint is None:
            print(f'--resume: {cfg.work_dir} has no last_checkpoint; nothing to resume, training '
                  'starts from the beginning', file=sys.stderr)
            cfg.resume, cfg.load_from = False, None
        else:
            cfg.resume, cfg.load_from = True, checkpoint
            will_load = True
    elif args.resume is not None:
        # refuse a missing or truncated file before anything is created or overwritten
        check_checkpoint_file(args.resume)
        check_resumable(args.resume)
        cfg.resume, cfg.load_from = True, args.resume
        will_load = True
    if will_load:
        allow_zero_aux_before_loading(cfg)
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> 'Runner':
    """Train as the command line says (``argv``: the arguments, default ``sys.argv[1:]``);
    returns the runner after training."""
    args = parse_args(argv)
    from mmengine.runner import Runner

    import m2pt_mm.engine  # noqa: F401  safe resume allow-list, hooks, atomic checkpoint backend
    from m2pt_mm.datasets.checks import check_dataset_files
    from m2pt_mm.engine.cli import load_config
    cfg = merge_args(load_config(args.config, args), args)
    check_dataset_files(cfg)  # a missing image or empty annotation list fails now, clearly
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


if __name__ == '__main__':
    run_main(main, 'train.py')
