"""What tools/train.py and tools/test.py share once the stack is imported: the config they load
(checked ``--cfg-options``) and the checkpoint ``--resume`` continues from. Their common arguments,
checked before any import: :mod:`m2pt_mm.utils.cli_checks`."""
import argparse
import contextlib
import os
import os.path as osp
import re
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional

import torch
from mmengine.config import Config

from m2pt_mm.checkpoints import CheckpointError, check_checkpoint_file, load_checkpoint_file
from m2pt_mm.engine.distributed import setup_cpu_distributed
from m2pt_mm.engine.work_dir import checkpoint_dir, lock_work_dir, refuse_earlier_checkpoints
from m2pt_mm.utils.checkpoint_kinds import missing_training_state, weights_only_kind
from m2pt_mm.utils.config_scope import register_config_scope

if TYPE_CHECKING:
    from mmengine.runner import Runner

#: What CheckpointHook names regular checkpoints (``best_*`` ones hold no optimiser state).
_RESUMABLE = re.compile(r'^(epoch|iter)_(\d+)\.pth$')
_MISSING = object()


def check_cfg_option_types(cfg: Config, options: Dict[str, Any]) -> None:
    """Refuse a ``--cfg-options`` value whose type cannot replace the config's value (a word
    where the config has a number or a bool: ``train_cfg.max_epochs=two``), naming the key."""
    for key, value in options.items():
        old: Any = cfg
        for part in key.split('.'):
            old = old.get(part, _MISSING) if isinstance(old, (dict, Config)) else _MISSING
            if old is _MISSING:
                break
        if old is _MISSING or old is None or value is None:
            continue  # a new key, or one the config leaves unset: the consumer checks it
        if isinstance(old, bool):
            ok = isinstance(value, bool)
        elif isinstance(old, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            continue
        if not ok:
            raise ValueError(f'--cfg-options {key}={value!r}: expected a value of type '
                             f'{type(old).__name__} like the config\'s value {old!r}')


def load_config(path: str, args: argparse.Namespace) -> Config:
    """Read ``path`` and apply the common arguments; the work dir defaults to
    ``./work_dirs/<config name>``. A distributed run without CUDA gets gloo on CPU."""
    register_config_scope()  # a config of another project may inherit `m2pt_mm::...` bases
    cfg = Config.fromfile(path)
    if args.cfg_options is not None:
        check_cfg_option_types(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    setup_cpu_distributed(cfg)
    return cfg


def _pathway_cfgs(cfg: Config) -> List[Any]:
    backbone = cfg.get('model', {}).get('backbone') or {}
    pathway = backbone.get('pathway') if isinstance(backbone, dict) else None
    if pathway is None:
        return []
    return [pathway] if isinstance(pathway, dict) else list(pathway)


def allow_zero_aux_before_loading(cfg: Config) -> None:
    """A run that loads or resumes trained weights reads W′ from them: let pathways without an
    ``aux_checkpoint`` start at zero (``allow_zero_aux``) instead of failing in ``init_weights``."""
    for pathway in _pathway_cfgs(cfg):
        if pathway.get('aux_checkpoint') is None:
            pathway['allow_zero_aux'] = True


def checkpoint_out_dir(cfg: Config) -> Optional[str]:
    """The config's ``default_hooks.checkpoint.out_dir`` (None: checkpoints go to the work dir)."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    return hook.get('out_dir')


def find_resume_checkpoint(work_dir: str, warn: Callable[[str], None] = print,
                           out_dir: Optional[str] = None) -> Optional[str]:
    """The checkpoint ``--resume`` (without a file) continues from: the one ``last_checkpoint``
    names if it is intact; else the newest intact ``epoch_N.pth`` / ``iter_N.pth`` (said through
    ``warn``) of the folder ``last_checkpoint``'s file is in, of ``out_dir/<last folder of
    work_dir>`` (where CheckpointHook saves with ``out_dir`` set) and of ``work_dir``; None when
    ``work_dir`` has no ``last_checkpoint``.

    Raises:
        CheckpointError: ``last_checkpoint`` names a missing or damaged file and no intact
            checkpoint is left (the message names what was found).
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        named = f.read().strip()
    try:
        check_checkpoint_file(named, verify_crc=True)  # one read: flipped bytes are damage too
        return named
    except (FileNotFoundError, CheckpointError) as e:
        problem = str(e)
    folders: List[str] = []
    for folder in (osp.dirname(named), checkpoint_dir(work_dir, out_dir), work_dir):
        if osp.isdir(folder) and not any(osp.samefile(folder, f) for f in folders):
            folders.append(folder)
    # newest first; of two of one step, the one in the earlier folder of the list
    found = sorted((int(m.group(2)), -i, osp.join(folder, name)) for i, folder in enumerate(folders)
                   for name in os.listdir(folder) for m in [_RESUMABLE.match(name)] if m)
    for _, _, path in reversed(found):
        try:
            check_checkpoint_file(path, verify_crc=True)
        except (FileNotFoundError, CheckpointError):
            continue
        warn(f'--resume: last_checkpoint names {named!r}, which cannot be used ({problem}); '
             f'resuming from the newest intact checkpoint {path!r}')
        return path
    where = f'{work_dir} holds' if len(folders) < 2 else f'{" and ".join(folders)} hold'
    shown = [osp.basename(path) if osp.dirname(path) == work_dir else path
             for _, _, path in found]
    raise CheckpointError(f'--resume: last_checkpoint names {named!r}, which cannot be used '
                          f'({problem}), and {where} no other intact checkpoint (found: '
                          f'{shown or "none"})')


def check_resumable(path: str) -> None:
    """Refuse to ``--resume`` from a file that holds weights only (a deploy checkpoint, an external
    one): resuming needs the training state mmengine saved beside the weights.

    A zip checkpoint is opened memory-mapped, so the tensors are not read; a legacy one is loaded.
    """
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001  legacy format, or an error the full load words better
        obj = load_checkpoint_file(path)
    missing = missing_training_state(obj)
    if missing:
        raise CheckpointError(
            f'--resume {path!r}: {weights_only_kind(obj)} (no {missing}); resume from a training '
            'checkpoint (work_dir/epoch_N.pth), or start from these weights with --cfg-options '
            'load_from=...')


def train_args(config: str, work_dir: Optional[str] = None,
               cfg_options: Optional[Dict[str, Any]] = None, **flags: Any) -> argparse.Namespace:
    """The namespace ``tools/train.py CONFIG --work-dir DIR --cfg-options ...`` parses to, for
    callers in Python (the study runner): ``flags`` are its other options by their ``dest``
    (``resume``, ``force``, ``amp``, ``auto_scale_lr``, ``no_validate``, ``launcher``,
    ``strategy``)."""
    unknown = set(flags) - {'resume', 'force', 'amp', 'auto_scale_lr', 'no_validate', 'launcher',
                            'strategy'}
    if unknown:
        raise TypeError(f'train_args: unknown option(s) {sorted(unknown)}')
    return argparse.Namespace(
        config=config, work_dir=work_dir, cfg_options=dict(cfg_options or {}) or None,
        launcher=flags.get('launcher', 'none'), local_rank=0, resume=flags.get('resume'),
        force=flags.get('force', False), amp=flags.get('amp', False),
        auto_scale_lr=flags.get('auto_scale_lr', False),
        no_validate=flags.get('no_validate', False), strategy=flags.get('strategy'))


def merge_train_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply ``tools/train.py``'s own options (``--amp``, ``--auto-scale-lr``, ``--no-validate``,
    ``--resume``, ``--force``, ``--strategy``) to ``cfg``.

    Raises:
        WorkDirNotEmptyError: a new run (neither ``--resume`` nor ``--force``) would overwrite
            the checkpoints of an earlier run.
    """
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
    if getattr(args, 'strategy', None):
        if cfg.get('launcher', 'none') == 'none':
            raise ValueError(f'--strategy {args.strategy} shards the model over processes: launch '
                             f'it with tools/dist_train.sh CONFIG N --strategy {args.strategy}')
        # mmengine's documented switch: FlexibleRunner + a registered strategy; options the
        # config (or --cfg-options strategy.x=...) sets for that type, or for no type, are kept
        from m2pt_mm.engine.strategies import strategy_cfg
        strategy = strategy_cfg(args.strategy)
        own = dict(cfg.get('strategy') or {})
        if own.get('type', strategy['type']) == strategy['type']:
            strategy = dict(own, **strategy)
        cfg.runner_type, cfg.strategy = 'FlexibleRunner', strategy
    will_load = cfg.get('load_from') is not None
    out_dir = checkpoint_out_dir(cfg)
    if args.resume is None and not getattr(args, 'force', False):
        refuse_earlier_checkpoints(cfg.work_dir, out_dir)
    if args.resume == 'auto':
        checkpoint = find_resume_checkpoint(cfg.work_dir, warn=lambda m: print(m, file=sys.stderr),
                                            out_dir=out_dir)
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


def build_train_runner(args: argparse.Namespace, cfg: Optional[Config] = None) -> 'Runner':
    """The Runner ``tools/train.py`` trains with: the config (``cfg``, else loaded from
    ``args.config``) with the common arguments and the training options applied, its dataset
    files checked, built by ``runner_type`` or ``Runner.from_cfg``. Train it inside
    :func:`locked_train_runner`, which holds the work dir."""
    from mmengine.runner import Runner

    import m2pt_mm.engine  # noqa: F401  safe resume allow-list, hooks, atomic checkpoint backend
    from m2pt_mm.datasets.checks import check_dataset_files
    cfg = merge_train_args(load_config(args.config, args) if cfg is None else cfg, args)
    check_dataset_files(cfg)  # a missing image or empty annotation list fails now, clearly
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


@contextlib.contextmanager
def locked_train_runner(args: argparse.Namespace) -> Iterator['Runner']:
    """:func:`build_train_runner`'s Runner, its work dir locked
    (:func:`m2pt_mm.engine.work_dir.lock_work_dir`) from before the checks of ``--resume`` and
    of earlier checkpoints until the block ends, returns or raises: train inside the block.

    Raises:
        WorkDirInUseError: another training run holds the work dir.
    """
    cfg = load_config(args.config, args)
    with lock_work_dir(cfg.work_dir, cfg.launcher):
        yield build_train_runner(args, cfg)
