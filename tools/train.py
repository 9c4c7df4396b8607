"""Train a model from an mmpretrain, mmdet or mmseg config (mmengine Runner).

Examples:
    python tools/train.py configs/demo/CONFIG.py --work-dir work_dirs/run
    python tools/train.py CONFIG --resume                 # from work_dir/last_checkpoint
    python tools/train.py CONFIG --resume work_dirs/run/epoch_2.pth
    python tools/train.py CONFIG --force                  # a new run over an earlier one's files
    bash tools/dist_train.sh CONFIG 8 [args]               # torchrun, 8 processes
    bash tools/dist_train.sh CONFIG 8 --strategy fsdp2     # sharded (FlexibleRunner + FSDP2)
    bash tools/dist_train.sh CONFIG 8 --strategy fsdp      # sharded (mmengine's FSDP1)
"""
import argparse
from typing import TYPE_CHECKING, Optional, Sequence

# torch and the OpenMMLab stack are imported after the arguments are checked
from m2pt_mm.utils.cli_checks import add_common_args, require_file, run_main

if TYPE_CHECKING:
    from mmengine.runner import Runner


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model (m2pt_mm)')
    parser.add_argument('config', help='config file path')
    add_common_args(parser)
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CHECKPOINT, or without a value from the latest '
                        'checkpoint in the work dir')
    parser.add_argument('--force', action='store_true',
                        help='start a new run in a work dir that holds checkpoints of an earlier '
                        'run (without it, or --resume, such a run is refused): the new '
                        'checkpoints replace the earlier ones of the same name')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual batch size / '
                        'auto_scale_lr.base_batch_size')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation during training')
    parser.add_argument('--strategy', choices=['fsdp', 'fsdp2'],
                        help="sharded training through mmengine's FlexibleRunner, with "
                        'dist_train.sh: fsdp2 = FSDP2Strategy (torch fully_shard per block), '
                        "fsdp = PathwayFSDPStrategy (mmengine's FSDPStrategy, FSDP1, one unit "
                        'per block)')
    args = parser.parse_args(argv)
    require_file(parser, args.config, 'config')
    # checkpoints named on the command line answer before the stack is imported (5-7 s)
    if args.resume not in (None, 'auto'):
        require_file(parser, args.resume, '--resume checkpoint')
    load_from = (args.cfg_options or {}).get('load_from')
    if isinstance(load_from, str) and '://' not in load_from:
        require_file(parser, load_from, 'load_from checkpoint')
    return args


def main(argv: Optional[Sequence[str]] = None) -> 'Runner':
    """Train as the command line says (``argv``: the arguments, default ``sys.argv[1:]``);
    returns the runner after training. The work dir is locked while the run lasts."""
    args = parse_args(argv)
    from m2pt_mm.engine.cli import locked_train_runner
    with locked_train_runner(args) as runner:
        runner.train()
    return runner


if __name__ == '__main__':
    run_main(main, 'train.py')
