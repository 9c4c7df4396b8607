"""Does a killed and resumed run end where the uninterrupted one does? Train CONFIG twice through
``tools/train.py``: once without interruption, once killed with SIGKILL in the middle of the epoch
(or interval) after its first checkpoint and then continued with ``--resume``; compare the final
checkpoints tensor by tensor (``torch.equal``) and print how many differ.

Both runs are separate processes with the config's seed, so on a CPU they must be bit-identical:
any differing tensor is randomness a resume does not repeat (see ResumableRandomnessHook).

Usage::

    python tools/analysis/check_resume.py \\
        configs/demo/vit-tiny-p8_scratch_1xb64-coslr-20e_digits-32x32.py \\
        --work-dir work_dirs/check_resume --cfg-options train_cfg.max_epochs=3
    python tools/analysis/check_resume.py CONFIG --quick      # 2 epochs, or 4 iterations

Exit status: 0 when no tensor differs, 1 when some do, 2 when a run failed.
"""
import argparse
import os
import os.path as osp
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

if TYPE_CHECKING:  # for the annotations only: the functions import torch when they run
    import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# a logged training step after the checkpoint the kill waits for: epoch-based or iteration-based
_STEP = re.compile(r'(?:Epoch\(train\)\s*\[(\d+)\]\s*\[\s*(\d+)/|Iter\(train\)\s*\[\s*(\d+)/)')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Compare an uninterrupted run with one killed '
                                     '(SIGKILL) mid-run and resumed (--resume)')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', default='work_dirs/check_resume',
                        help='gets uninterrupted/ and resumed/ (default: %(default)s)')
    parser.add_argument('--kill-after-steps', type=int, default=2,
                        help='logged training steps after the first checkpoint before the kill '
                        '(default: %(default)s)')
    parser.add_argument('--quick', action='store_true',
                        help='2 epochs (or 4 iterations, a checkpoint after 2): a smoke check')
    parser.add_argument('--timeout', type=float, default=3600, help='seconds per run')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed on to tools/train.py (key=value ...)')
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config {args.config} not found')
    if args.kill_after_steps < 1:
        parser.error(f'--kill-after-steps must be at least 1, got {args.kill_after_steps}')
    return args


def quick_options(config: str) -> List[str]:
    """``--cfg-options`` for 2 epochs or 4 iterations with a checkpoint every epoch / 2."""
    from mmengine.config import Config

    import m2pt_mm.utils
    m2pt_mm.utils.register_config_scope()
    train_cfg = Config.fromfile(config).train_cfg
    if 'max_iters' in train_cfg:
        return ['train_cfg.max_iters=4', 'default_hooks.checkpoint.interval=2',
                'default_hooks.checkpoint.by_epoch=False']
    return ['train_cfg.max_epochs=2', 'default_hooks.checkpoint.interval=1']


def _train_cmd(args: argparse.Namespace, work_dir: str, *extra: str) -> List[str]:
    # the user's own --cfg-options come last: tools/train.py keeps the last value of a key, so
    # --quick never replaces what the user set
    options = args.quick_options + list(args.cfg_options)
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), args.config,
           '--work-dir', work_dir, *extra]
    return cmd + (['--cfg-options', *options] if options else [])


# the kill waits for logged steps: the log must reach the file line by line, not in blocks
_ENV = dict(os.environ, PYTHONUNBUFFERED='1')


def _run(cmd: List[str], log: str, timeout: float) -> None:
    with open(log, 'w') as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                                env=_ENV)
    if result.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed ({result.returncode}); see {log}:\n'
                           + _tail(log))


def _tail(path: str, lines: int = 15) -> str:
    with open(path, errors='replace') as f:
        return ''.join(f.readlines()[-lines:])


def _steps_after(log: str, start: int) -> int:
    """Training steps logged in ``log`` after byte ``start``."""
    with open(log, errors='replace') as f:
        f.seek(start)
        return len(_STEP.findall(f.read()))


def run_killed(args: argparse.Namespace, work_dir: str) -> str:
    """Train until the first checkpoint, then ``--kill-after-steps`` more logged steps, SIGKILL;
    returns what the killed run's work dir held at the kill."""
    from m2pt_mm.testing.processes import EndedBeforeKill, kill_when
    log = osp.join(work_dir, 'killed_run.out')
    os.makedirs(work_dir, exist_ok=True)
    pointer = osp.join(work_dir, 'last_checkpoint')
    mark = None

    def past_first_checkpoint() -> bool:
        nonlocal mark
        if mark is None and osp.exists(pointer):
            mark = osp.getsize(log)  # steps logged from here on are past the checkpoint
        return mark is not None and _steps_after(log, mark) >= args.kill_after_steps

    with open(log, 'w') as out:
        try:
            kill_when(_train_cmd(args, work_dir), past_first_checkpoint, env=_ENV, stdout=out,
                      timeout=args.timeout, what='it could be killed after its first checkpoint')
        except EndedBeforeKill as error:
            raise RuntimeError(f'{error}: train longer or lower --kill-after-steps; see '
                               f'{log}:\n' + _tail(log)) from None
        except TimeoutError:
            raise RuntimeError(f'no checkpoint within --timeout {args.timeout} s; '
                               f'see {log}') from None
    return ' '.join(sorted(os.listdir(work_dir)))


def final_state_dict(work_dir: str) -> Dict[str, 'torch.Tensor']:
    import torch

    import m2pt_mm.engine  # noqa: F401  the allow-list for mmengine checkpoints (weights_only)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        path = f.read().strip()
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def compare(a: Dict[str, 'torch.Tensor'], b: Dict[str, 'torch.Tensor']) -> List[str]:
    """One line per tensor that differs (or is missing on one side)."""
    import torch
    lines = [f'{k}: only in the uninterrupted run' for k in a if k not in b]
    lines += [f'{k}: only in the resumed run' for k in b if k not in a]
    for k in a:
        if k in b and not torch.equal(a[k], b[k]):
            delta = (a[k].double() - b[k].double()).abs().max().item() \
                if a[k].shape == b[k].shape else float('nan')
            lines.append(f'{k}: max |diff| {delta:.3g}')
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    args.quick_options = quick_options(args.config) if args.quick else []
    user_keys = {o.split('=', 1)[0] for o in args.cfg_options}
    for option in args.quick_options:
        if option.split('=', 1)[0] in user_keys:
            print(f'--quick: your --cfg-options value of {option.split("=", 1)[0]} is kept '
                  f'(--quick would set {option})')
    full_dir = osp.join(args.work_dir, 'uninterrupted')
    resumed_dir = osp.join(args.work_dir, 'resumed')
    for d in (full_dir, resumed_dir):
        if osp.exists(osp.join(d, 'last_checkpoint')):
            print(f'{d} holds a run already: give an empty --work-dir', file=sys.stderr)
            return 2
        os.makedirs(d, exist_ok=True)
    try:
        _run(_train_cmd(args, full_dir), osp.join(full_dir, 'run.out'), args.timeout)
        at_kill = run_killed(args, resumed_dir)
        print(f'killed; work dir at the kill: {at_kill}')
        _run(_train_cmd(args, resumed_dir, '--resume'), osp.join(resumed_dir, 'resume.out'),
             args.timeout)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(e, file=sys.stderr)
        return 2
    a, b = final_state_dict(full_dir), final_state_dict(resumed_dir)
    lines = compare(a, b)
    for line in lines:
        print(line)
    print(f'{len(lines)} of {len(a)} tensors differ between the uninterrupted and the resumed run')
    return 1 if lines else 0


if __name__ == '__main__':
    sys.exit(main())
