"""`make demo`: Multimodal Pathway end to end on a small real dataset, on CPU, in minutes.

1. data: scikit-learn's 1,797 real 8×8 digit scans as a 32×32 ImageNet-style folder (1,437 train /
   360 val, stratified) and N log-mel spectrograms of synthetic audio clips (a flat image folder);
   both are written once into ``WORK/data`` and reused.
2. aux: a tiny ViT (4 × 64) pretrained with mmpretrain's MAE on the spectrograms.
3. target: the same tiny ViT trained from scratch on the digits, as a plain ViT (baseline) and with
   a pathway to the MAE spectrogram ViT in every block linear (M2PT), same recipe, seeds 0, 1, 2.
   Runs go through ``tools/train.py``, ``--jobs`` at a time (the baselines do not wait for the aux).
4. evaluation, in this process by mmengine's ``Runner.test()`` in the Runner ``tools/test.py``
   builds (the config's test dataloader and ``test_evaluator``, mmpretrain ``Accuracy``; logs in
   ``<checkpoint>_test/``): val top-1 of every final checkpoint; the Cross-Modal Scales λ of the
   M2PT runs; the merged (deploy) checkpoint, checked ``strict=True`` against the plain config
   (``pathway=None``), against the unmerged model on the val images.

The table goes to stdout, ``WORK/results.md`` and ``WORK/results.json``.

Usage::

    python tools/demo.py                      # WORK = work_dirs/demo
    python tools/demo.py --epochs 2 --mae-epochs 2 --num-spectrograms 256   # a quick smoke run
"""
import argparse
import importlib.util
import itertools
import json
import os
import os.path as osp
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

from mmengine.hooks import Hook  # noqa: E402
from mmengine.model import is_model_wrapper  # noqa: E402

from m2pt_mm.testing.digits import write_digits_imagenet  # noqa: E402
from m2pt_mm.testing.spectrograms import write_spectrograms  # noqa: E402


def load_tool(name: str) -> Any:
    """``tools/<name>.py`` as a module, by file (``'test'``, ``'analysis/benchmark'``):
    ``tools/test.py`` would meet the stdlib ``test`` package on ``sys.path``."""
    spec = importlib.util.spec_from_file_location(f'm2pt_tools_{name.replace("/", "_")}',
                                                  osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TEST_TOOL = load_tool('test')  # the Runner that tools/test.py evaluates a checkpoint with
_TEST_RUNS = itertools.count()

CONFIGS = dict(
    aux='configs/demo/mae_vit-tiny-p8_1xb64-coslr-20e_spectrogram-32x32.py',
    baseline='configs/demo/vit-tiny-p8_scratch_1xb64-coslr-20e_digits-32x32.py',
    m2pt='configs/demo/m2pt_vit-tiny-p8-spectrogram_scratch_1xb64-coslr-20e_digits-32x32.py')
MODELS = ('baseline', 'm2pt')

_T0 = time.time()


def show(path: str) -> str:
    """``path`` relative to the repository when inside it."""
    rel = osp.relpath(path, ROOT)
    return path if rel.startswith('..') else rel


def log(message: str) -> None:
    """One progress line with the time since the demo started."""
    print(f'[{time.time() - _T0:6.1f} s] {message}', flush=True)


# ---------------------------------------------------------------------------------------- data
def prepare_data(data_dir: str, num_spectrograms: int) -> Dict[str, str]:
    """Write the digits and the spectrograms under ``data_dir`` unless they are there already."""
    digits, spec = osp.join(data_dir, 'digits'), osp.join(data_dir, 'spectrograms')
    if all(osp.isfile(osp.join(digits, *f)) for f in (('meta', 'val.txt'), ('classes.txt', ))):
        log(f'data: digits already in {digits}')
    else:
        counts = write_digits_imagenet(digits)
        log(f'data: wrote {counts["train"]} train / {counts["val"]} val digit images to {digits}')
    present = len([f for f in os.listdir(spec) if f.endswith('.png')]) if osp.isdir(spec) else 0
    if present == num_spectrograms:
        log(f'data: {present} spectrograms already in {spec}')
    else:
        if present:
            raise RuntimeError(f'{spec} holds {present} spectrograms, not {num_spectrograms}: '
                               'remove the folder or pass --num-spectrograms ' + str(present))
        write_spectrograms(spec, num_spectrograms)
        log(f'data: wrote {num_spectrograms} log-mel spectrograms to {spec}')
    return dict(digits=digits, spectrograms=spec)


# ---------------------------------------------------------------------------------------- runs
def format_options(cfg_options: Dict[str, Any]) -> List[str]:
    return [f'{key}={value}' for key, value in cfg_options.items()]


_CHILDREN: Set[subprocess.Popen] = set()
_STOPPED = threading.Event()


def _run(cmd: List[str], log_file: str, threads: Optional[int]) -> None:
    env = dict(os.environ)
    if threads:
        # the tiny models gain nothing from intra-op threads; parallel runs share the cores
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    os.makedirs(osp.dirname(log_file), exist_ok=True)
    with open(log_file, 'w') as f:
        f.write(' '.join(cmd) + '\n\n')
        f.flush()
        if _STOPPED.is_set():
            raise RuntimeError('the demo is stopping')
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
        _CHILDREN.add(proc)
        try:
            returncode = proc.wait()
        finally:
            _CHILDREN.discard(proc)
    if returncode != 0:
        with open(log_file) as f:
            tail = ''.join(f.readlines()[-30:])
        raise RuntimeError(f'{" ".join(cmd[1:3])} failed (exit {returncode}); the last '
                           f'lines of {log_file}:\n{tail}')


def stop_children() -> None:
    """Terminate the runs this demo started (on an error, Ctrl-C or SIGTERM)."""
    _STOPPED.set()
    for proc in list(_CHILDREN):
        proc.terminate()


def run_train(config: str, work_dir: str, cfg_options: Dict[str, Any],
              threads: Optional[int] = None) -> str:
    """Train ``config`` into ``work_dir`` with ``tools/train.py``; return the final checkpoint."""
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir]
    if cfg_options:
        cmd += ['--cfg-options', *format_options(cfg_options)]
    _run(cmd, osp.join(work_dir, 'train_stdout.log'), threads)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def schedule_options(epochs: Optional[int], classifier: bool) -> Dict[str, Any]:
    """cfg-options for another number of epochs (warmup: a tenth, at least one epoch)."""
    if epochs is None:
        return {}
    warmup = max(1, epochs // 10)
    options = {'train_cfg.max_epochs': epochs, 'param_scheduler.0.end': warmup,
               'param_scheduler.1.begin': warmup, 'param_scheduler.1.end': max(epochs, warmup + 1),
               'default_hooks.checkpoint.interval': epochs}
    if classifier:
        options['train_cfg.val_interval'] = epochs
    return options


def data_options(digits: str) -> Dict[str, Any]:
    return {f'{split}_dataloader.dataset.data_root': digits for split in ('train', 'val', 'test')}


def _timed(name: str, fn, *fn_args) -> Any:
    start = time.time()
    out = fn(*fn_args)
    log(f'{name} done in {time.time() - start:.1f} s')
    return out


def wait_result(future: Future) -> Any:
    # wait in short slices: a signal (Ctrl-C, SIGTERM) reaches the main thread only between them
    while True:
        try:
            return future.result(timeout=0.5)
        except TimeoutError:
            continue


def train_all(work: str, seeds: Sequence[int], jobs: int, threads: int,
              mae_options: Dict[str, Any], cls_options: Dict[str, Any]):
    """The MAE aux run and the baseline / M2PT runs, ``jobs`` at a time. The baselines need no
    aux, so they run beside the MAE pretraining. Returns the aux checkpoint and
    ``{model: {seed: final checkpoint}}``. Any failure (or Ctrl-C) stops every run."""
    with ThreadPoolExecutor(jobs) as pool:
        try:
            aux = pool.submit(_timed, 'aux: MAE pretraining on spectrograms', run_train,
                              CONFIGS['aux'], osp.join(work, 'aux_mae'), mae_options, threads)

            def train(model: str, seed: int) -> str:
                options = {**cls_options, 'randomness.seed': seed}
                if model == 'm2pt':
                    options['model.backbone.pathway.aux_checkpoint'] = aux.result()
                return _timed(f'train: {model} seed {seed}', run_train, CONFIGS[model],
                              osp.join(work, f'{model}_seed{seed}'), options, threads)

            futures = {m: {s: pool.submit(train, m, s) for s in seeds} for m in MODELS}
            ckpts = {m: {s: wait_result(f) for s, f in runs.items()} for m, runs in futures.items()}
            return wait_result(aux), ckpts
        except BaseException as e:
            log(f'stopping ({type(e).__name__}): terminating the running trainings')
            stop_children()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


# ---------------------------------------------------------------------------------------- checks
def load_state_dict(path: str) -> Dict[str, Any]:
    """The state dict of a checkpoint this demo wrote (``weights_only=True``)."""
    from m2pt_mm.checkpoints import load_checkpoint_file, unwrap_state_dict
    return unwrap_state_dict(load_checkpoint_file(path), path)[0]


def ensure_deploy(checkpoint: str) -> str:
    """The merged checkpoint ``<stem>_deploy.pth`` that MergePathwayHook wrote beside it."""
    from m2pt_mm.engine import deploy_path
    deploy = deploy_path(checkpoint)
    if not osp.isfile(deploy):
        raise FileNotFoundError(f'{deploy} is missing: MergePathwayHook writes it beside {checkpoint}')
    return deploy


def lambda_summary(checkpoint: str) -> Dict[str, float]:
    """Count, mean |λ|, min and max of the Cross-Modal Scales in a training checkpoint."""
    from m2pt_mm.pathway import collect_scales
    values = [r.value for r in collect_scales(load_state_dict(checkpoint))]
    return dict(count=len(values), mean_abs=sum(abs(v) for v in values) / len(values),
                min=min(values), max=max(values))


class LogitsHook(Hook):
    """Keeps the classification head's output (the logits) of every test batch, in order: the
    config's test sampler does not shuffle, so two runs over the val images line up."""

    def __init__(self) -> None:
        self.logits: List['torch.Tensor'] = []
        self._handle = None

    def before_test(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._handle = model.head.register_forward_hook(
            lambda module, inputs, output: self.logits.append(output.detach()))

    def after_test(self, runner) -> None:
        self._handle.remove()


def evaluate(config: str, checkpoint: str, cfg_options: Dict[str, Any], plain: bool = False,
             work_dir: Optional[str] = None,
             keep_logits: bool = True) -> Tuple[float, Optional['torch.Tensor']]:
    """Val top-1 of ``checkpoint`` by mmengine's ``Runner.test()`` with the config's test
    dataloader and ``test_evaluator`` (mmpretrain ``Accuracy``), in the Runner ``tools/test.py``
    builds (the checkpoint checked ``strict=True`` against the model), and the logits on the val
    images (None with ``keep_logits=False``: models without a ``head``, such as OmniVec).
    ``plain``: the config with ``pathway=None`` (for a merged deploy checkpoint). ``work_dir``
    (the test logs): by default ``<checkpoint without .pth>_test/``."""
    import torch
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(cfg_options)
    if plain:
        cfg.merge_from_dict({'model.backbone.pathway': None})
    cfg.work_dir = work_dir or osp.splitext(checkpoint)[0] + '_test'
    # several Runners in this process: distinct names for mmengine's logger and visualiser
    # instances; warnings only, so that the demo's own progress lines stay readable
    cfg.experiment_name = f'demo_test_{next(_TEST_RUNS)}'
    cfg.log_level = 'WARNING'
    runner = TEST_TOOL.build_test_runner(cfg, checkpoint)
    logits = LogitsHook() if keep_logits else None
    if logits is not None:
        runner.register_hook(logits)
    metrics = runner.test()
    kept = torch.cat(logits.logits) if logits is not None else None
    return float(metrics['accuracy/top1']), kept


# ---------------------------------------------------------------------------------------- table
def mean_std(values: Sequence[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.
    return f'{statistics.mean(values):.2f} ± {std:.2f}'


def format_results(results: Dict[str, Any]) -> str:
    seeds = results['seeds']
    top1 = results['top1']
    diffs = [top1['m2pt'][i] - top1['baseline'][i] for i in range(len(seeds))]
    lines = [
        f'Digits (scikit-learn, 1,437 train / 360 val, 32×32), tiny ViT 4 × 64 from scratch, '
        f'{results["epochs"]} epochs; aux: MAE on {results["num_spectrograms"]} synthetic '
        f'log-mel spectrograms, {results["mae_epochs"]} epochs.',
        '',
        '| seed | baseline top-1 (%) | M2PT top-1 (%) | M2PT − baseline |',
        '|---|---|---|---|',
    ]
    for i, seed in enumerate(seeds):
        lines.append(f'| {seed} | {top1["baseline"][i]:.2f} | {top1["m2pt"][i]:.2f} | '
                     f'{diffs[i]:+.2f} |')
    lines += [f'| mean ± std | {mean_std(top1["baseline"])} | {mean_std(top1["m2pt"])} | '
              f'{mean_std(diffs)} |',
              '',
              f'M2PT better on {sum(d > 0 for d in diffs)}/{len(seeds)} seeds '
              f'(std: sample standard deviation over seeds).',
              '']
    for seed, lam in zip(seeds, results['lambda']):
        lines.append(f'λ (seed {seed}, {lam["count"]} scales): mean |λ| = {lam["mean_abs"]:.4f}, '
                     f'min = {lam["min"]:+.4f}, max = {lam["max"]:+.4f}')
    lines += ['', 'deploy checkpoints (merged, load into the baseline config):']
    lines += [f'  {path}' for path in results['deploy']]
    same = all(abs(a - b) < 1e-9 for a, b in zip(results['deploy_top1'], top1['m2pt']))
    lines += ['', f'merged == unmerged: max |Δ| = {max(results["merge_delta"]):.2e} '
              f'(logits on the {results["num_val"]} val images, M2PT seeds {list(seeds)}; '
              f'deploy top-1 {"equals" if same else "DIFFERS FROM"} the unmerged top-1)']
    return '\n'.join(lines)


def write_results(work: str, results: Dict[str, Any], table: str) -> None:
    """``table`` to ``work/results.md`` and stdout, ``results`` to ``work/results.json``."""
    with open(osp.join(work, 'results.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(work, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    log(f'done: {osp.join(work, "results.md")}, results.json')
    print('\n' + table)


# ---------------------------------------------------------------------------------------- main
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='M2PT demo: digits + spectrogram MAE pathway')
    parser.add_argument('--work-dir', default='work_dirs/demo', help='default work_dirs/demo')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--jobs', type=int, default=min(2, os.cpu_count() or 1),
                        help='runs at a time (default: min(2, CPUs)); each gets CPUs/jobs threads')
    parser.add_argument('--epochs', type=int, help='override the classifier epochs (configs: 20)')
    parser.add_argument('--mae-epochs', type=int, help='override the MAE epochs (config: 20)')
    parser.add_argument('--num-spectrograms', type=int, default=2000)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    os.chdir(ROOT)
    from mmengine.config import Config
    work = osp.abspath(args.work_dir)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    log(f'M2PT demo in {work}: seeds {args.seeds}, {args.jobs} run(s) at a time, '
        f'{threads} thread(s) each')
    data = prepare_data(osp.join(work, 'data'), args.num_spectrograms)

    epochs = args.epochs or Config.fromfile(CONFIGS['baseline']).train_cfg.max_epochs
    mae_epochs = args.mae_epochs or Config.fromfile(CONFIGS['aux']).train_cfg.max_epochs
    cls_options = {**data_options(data['digits']), **schedule_options(args.epochs, True)}
    mae_options = {'train_dataloader.dataset.data_root': data['spectrograms'],
                   **schedule_options(args.mae_epochs, False)}

    aux_ckpt, ckpts = train_all(work, args.seeds, args.jobs, threads, mae_options, cls_options)
    log(f'train: 1 MAE + {2 * len(args.seeds)} classifier runs done')

    top1: Dict[str, List[float]] = {m: [] for m in MODELS}
    deploys, deploy_top1, deltas = [], [], []
    for seed in args.seeds:
        top1['baseline'].append(evaluate(CONFIGS['baseline'], ckpts['baseline'][seed],
                                         cls_options)[0])
        acc, logits = evaluate(CONFIGS['m2pt'], ckpts['m2pt'][seed], cls_options)
        deploy = ensure_deploy(ckpts['m2pt'][seed])
        acc_deploy, logits_deploy = evaluate(CONFIGS['m2pt'], deploy, cls_options, plain=True)
        top1['m2pt'].append(acc)
        deploys.append(deploy)
        deploy_top1.append(acc_deploy)
        deltas.append((logits_deploy - logits).abs().max().item())
    log(f'evaluation: val top-1 of the {2 * len(args.seeds)} final checkpoints and of the '
        f'{len(args.seeds)} deploy checkpoints (plain config, strict=True)')

    with open(osp.join(data['digits'], 'meta', 'val.txt')) as f:
        num_val = sum(1 for _ in f)
    results = {
        'seeds': list(args.seeds), 'epochs': epochs, 'mae_epochs': mae_epochs,
        'num_spectrograms': args.num_spectrograms, 'num_val': num_val,
        'aux_checkpoint': show(aux_ckpt), 'top1': top1, 'deploy_top1': deploy_top1,
        'checkpoints': {m: [show(ckpts[m][s]) for s in args.seeds] for m in MODELS},
        'deploy': [show(d) for d in deploys], 'merge_delta': deltas,
        'lambda': [lambda_summary(ckpts['m2pt'][s]) for s in args.seeds],
        'wall_time_s': round(time.time() - _T0, 1)}
    write_results(work, results, format_results(results))


if __name__ == '__main__':
    main()
