"""Evaluate a checkpoint with an mmpretrain, mmdet or mmseg config (mmengine Runner).

The checkpoint is checked against the model first (CheckpointCheckHook): a merged
``*_deploy.pth`` needs the plain config (``pathway=None``), a training checkpoint the M2PT one.

Examples:
    python tools/test.py CONFIG work_dirs/run/epoch_10_deploy.pth
    python tools/test.py CONFIG CKPT --show-dir vis --metrics-out metrics.json
    python tools/test.py CONFIG CKPT --dump preds.pkl   # every prediction (OmniVec: embeddings)
    python tools/test.py CONFIG CKPT --tta   # the config's test-time augmentation (video: 5x3)
    bash tools/dist_test.sh CONFIG CKPT 8 [args]
"""
import argparse
import json
import numbers
from typing import TYPE_CHECKING, Optional, Sequence

# torch and the OpenMMLab stack are imported after the arguments are checked
from m2pt_mm.utils.checkpoint_kinds import sharded_checkpoint_kind
from m2pt_mm.utils.cli_checks import add_common_args, check_output_file, require_file, run_main

if TYPE_CHECKING:
    from mmengine.config import Config
    from mmengine.runner import Runner


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a model (m2pt_mm)')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    add_common_args(parser)
    parser.add_argument('--show-dir', help='write prediction pictures here (relative paths are '
                        'inside the timestamped run directory)')
    parser.add_argument('--show', action='store_true', help='show predictions in a window')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds per shown picture')
    parser.add_argument('--metrics-out', help='also write the metrics as JSON to this file')
    parser.add_argument('--dump', metavar='FILE.pkl',
                        help='also pickle every prediction (a list of DataSample dicts, one per '
                        "sample; an OmniVec model puts its Omni embedding in each) with mmengine's "
                        'DumpResults metric')
    parser.add_argument('--tta', action='store_true',
                        help="test-time augmentation as mmpretrain's tools/test.py: the config's "
                        '`tta_model` wraps the model and `tta_pipeline` is the test pipeline')
    args = parser.parse_args(argv)
    require_file(parser, args.config, 'config')
    refuse_sharded_checkpoint(parser, args.checkpoint)
    require_file(parser, args.checkpoint, 'checkpoint')
    if args.dump is not None and not args.dump.endswith(('.pkl', '.pickle')):
        parser.error(f"--dump {args.dump!r}: expected a .pkl file name (mmengine's DumpResults "
                     'pickles the predictions)')
    inputs = (args.config, args.checkpoint)
    # before the evaluation runs, not after it
    check_output_file(parser, args.metrics_out, '--metrics-out', inputs)
    check_output_file(parser, args.dump, '--dump', inputs)
    return args


def refuse_sharded_checkpoint(parser: argparse.ArgumentParser, path: str) -> None:
    """Name a sharded checkpoint for what it is: this tool loads one full checkpoint into an
    unsharded model (no strategy)."""
    kind = sharded_checkpoint_kind(path)
    if kind is not None:
        parser.error(f"checkpoint {path!r} is {kind}; test.py reads one full checkpoint without a "
                     "strategy: train with full state dicts (the default of --strategy fsdp and "
                     "fsdp2, or strategy.state_dict_cfg='full')")


def enable_visualization(cfg: 'Config', args: argparse.Namespace) -> None:
    """Turn on the library's own visualisation hook (its name and options differ per library)."""
    scope = cfg.get('default_scope', 'mmpretrain')
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError(f'{args.config}: default_hooks.visualization is missing; cannot --show')
    if scope == 'mmpretrain':
        hook.update(enable=True, show=args.show, wait_time=args.wait_time, out_dir=args.show_dir)
    else:  # mmdet DetVisualizationHook and mmseg SegVisualizationHook
        hook.update(draw=True, show=args.show, wait_time=args.wait_time)
        if args.show_dir:
            hook['test_out_dir'] = args.show_dir


def build_test_runner(cfg: 'Config', checkpoint: str) -> 'Runner':
    """The Runner whose ``test()`` evaluates ``checkpoint`` with ``cfg``. The checkpoint file and
    the test data are checked first, and the checkpoint against the model when it is loaded
    (``CheckpointCheckHook``, strict whatever the config says), which mmengine alone would load
    with ``strict=False``."""
    from mmengine.runner import Runner

    import m2pt_mm.engine  # noqa: F401  safe, CRC-checked loading; hooks
    from m2pt_mm.checkpoints import check_checkpoint_file
    from m2pt_mm.datasets.checks import check_dataset_files
    check_checkpoint_file(checkpoint)
    cfg.load_from = checkpoint
    check_dataset_files(cfg, ('test_dataloader', ))
    # strict even where training loads relaxed (OmniVec stages start from another stage's heads):
    # a part the checkpoint does not fill would be evaluated with its random initial values
    hooks = [h for h in cfg.get('custom_hooks', []) if h.get('type') != 'CheckpointCheckHook']
    cfg.custom_hooks = hooks + [dict(type='CheckpointCheckHook', strict=True)]
    return Runner.from_cfg(cfg)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Evaluate as the command line says (``argv``: the arguments, default ``sys.argv[1:]``);
    returns the metrics."""
    args = parse_args(argv)
    from mmengine.config import ConfigDict
    from mmengine.evaluator import DumpResults

    from m2pt_mm.engine.cli import load_config
    cfg = load_config(args.config, args)
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        missing = [k for k in ('tta_model', 'tta_pipeline') if cfg.get(k) is None]
        if missing:
            raise KeyError(f'{args.config} has no {missing}: --tta needs both')
        cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    runner = build_test_runner(cfg, args.checkpoint)
    if args.dump:
        # as mmpretrain's tools/test.py --out: one more metric, whatever the config evaluates
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.dump))
    metrics = runner.test()
    if args.metrics_out and runner.rank == 0:
        with open(args.metrics_out, 'w') as f:
            # numpy scalars (mmseg IoUMetric) are numbers.Real too
            json.dump({k: float(v) if isinstance(v, numbers.Real) else v
                       for k, v in metrics.items()}, f, indent=2)
    return metrics


if __name__ == '__main__':
    run_main(main, 'test.py')
