"""M2PT vs OmniVec on the digits: one target task, the same tiny ViT blocks, the same budget.

Target: scikit-learn's digit scans (``make demo``'s 32×32 ImageNet folder, 360 val images), in two
regimes: all 1,437 training images, and a stratified fraction of them (``--fraction``, 10 %, a
fixed split written to ``meta/train-10pct.txt``). Other modality: ``make demo``'s synthetic
log-mel spectrograms. Per regime and seed, through ``tools/train.py``:

1. **baseline** — the plain tiny ViT (4 blocks × 64) from scratch
   (``configs/demo/vit-tiny-p8_scratch_...``);
2. **M2PT** — the same ViT with a pathway in every block linear to the demo's MAE pretrained on
   the spectrograms (``configs/demo/m2pt_vit-tiny-p8-spectrogram_...``), merged after training;
3. **OmniVec** — one trunk of the same blocks pretrained jointly on the spectrograms and the
   regime's digit images (masked reconstruction, ``configs/omnivec/omnivec-mae_..._spectrogram-
   digits-32x32.py``), then fine-tuned on the digits with the baseline's recipe
   (``configs/omnivec/omnivec_vit-tiny-p8_omnivec-mae-spectrogram-digits-pre_...``).

Fairness (also written into the results): the target training of all three has the same data,
pipeline, recipe, epochs and seeds; the two pretrainings (the M2PT aux MAE and OmniVec's joint
masked pretraining) have the same optimizer, schedule, batch size, mask ratio, decoder and number
of optimizer steps; OmniVec pretrains once per regime, on that regime's digit images only, so the
data-scarce runs never see the other training images. Evaluation: val top-1 of every final
checkpoint by ``Runner.test()`` (``tools/test.py``'s Runner, checkpoint checked strictly). Cost:
wall time and logged iteration time of every training run, and at inference the parameter count
and the time per batch (``torch.utils.benchmark``) of the deployed models: the plain ViT, M2PT
merged (a plain ViT again; checked to give the unmerged model's logits) and OmniVec as it runs
(image encoder + meta tokens + projection + trunk + head).

The table goes to stdout, ``WORK/results.md`` and ``WORK/results.json``.

Keep WORK's path short (inside the repository it is used relative to it): mmengine formats each
run's config with yapf several times a run, and yapf's time grows steeply with long strings in
nested dicts: with a 70-character data path one formatting of the OmniVec config takes about 9 s
instead of 0.6 s (2-core CPU).

Usage::

    python tools/analysis/compare_strategies.py                 # WORK = work_dirs/compare
    python tools/analysis/compare_strategies.py --quick --work-dir /tmp/compare   # seconds
"""
import argparse
import functools
import glob
import importlib.util
import json
import math
import os
import os.path as osp
import platform
import shlex
import signal
import statistics
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_demo() -> Any:
    """``tools/demo.py`` by file: its data, training and evaluation steps are reused as they are."""
    spec = importlib.util.spec_from_file_location('m2pt_tools_demo',
                                                  osp.join(ROOT, 'tools', 'demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo = _load_demo()
TRAIN_TOOL = demo.load_tool('train')
BENCHMARK_TOOL = demo.load_tool('analysis/benchmark')  # its torch.utils.benchmark timing

METHODS = ('baseline', 'm2pt', 'omnivec')
LABELS = dict(baseline='baseline', m2pt='M2PT', omnivec='OmniVec')
#: (a, b) pairs whose per-seed difference a − b is reported.
PAIRS = (('m2pt', 'baseline'), ('omnivec', 'baseline'), ('omnivec', 'm2pt'))
CONFIGS = dict(
    demo.CONFIGS,
    omnivec_pretrain='configs/omnivec/omnivec-mae_vit-tiny-p8_1xb64-coslr-20e_'
                     'spectrogram-digits-32x32.py',
    omnivec='configs/omnivec/omnivec_vit-tiny-p8_omnivec-mae-spectrogram-digits-pre_'
            '1xb64-coslr-20e_digits-32x32.py')
OMNIVEC_TASK = 'digits_cls'  # the fine-tuning config's head
FULL = 'full'
#: cfg-options that make the evaluation check a checkpoint strictly.
STRICT_CHECK = {'custom_hooks': [dict(type='CheckpointCheckHook', strict=True)]}
#: What ``--quick`` leaves out of every run and evaluation, to take seconds: the visualiser's
#: backends (each writes the config, formatted by yapf, 0.1 to 0.6 s) and, per dataset
#: (``serialize_data``), mmengine's serialisation, which ends in a full ``gc.collect()`` (about
#: 0.3 s) and shares nothing without dataloader workers.
QUICK_OPTIONS = {'visualizer.vis_backends': []}


# ---------------------------------------------------------------------------------------- data
def write_train_subset(digits_dir: str, fraction: float, seed: int = 0) -> Tuple[str, int]:
    """Write a stratified ``fraction`` of ``meta/train.txt`` to ``meta/train-<pct>pct.txt`` with
    ``m2pt_mm.testing.digits.stratified_split`` (``seed`` fixes it); return the annotation file
    (relative to ``digits_dir``) and its number of images."""
    from m2pt_mm.testing.digits import stratified_split
    if not 0 < fraction < 1:
        raise ValueError(f'--fraction must be in (0, 1), got {fraction}')
    with open(osp.join(digits_dir, 'meta', 'train.txt')) as f:
        lines = f.read().splitlines()
    labels = [int(line.rsplit(' ', 1)[1]) for line in lines]
    count = max(len(set(labels)), round(fraction * len(lines)))
    _, keep = stratified_split(labels, count, seed)
    ann_file = f'meta/train-{round(fraction * 100)}pct.txt'
    with open(osp.join(digits_dir, ann_file), 'w') as f:
        f.write(''.join(lines[i] + '\n' for i in keep))
    return ann_file, len(keep)


def _digits_prefix(method: str, split: str) -> str:
    """The cfg-options path of the digits dataset of ``split`` in ``method``'s config."""
    nested = '.sources.digits.dataset' if method == 'omnivec' else ''
    return f'{split}_dataloader.dataset{nested}'


def target_options(method: str, digits_dir: str, ann_file: str, epochs: int, seed: int,
                   limits: Optional[Dict[str, Optional[int]]] = None) -> Dict[str, Any]:
    """cfg-options of a target run: data (the regime's annotation file), schedule, seed;
    ``limits`` (``--quick``): ``{'train': n or None, 'val': n}``, the first images only, and no
    serialisation (:data:`QUICK_OPTIONS`)."""
    options = {**demo.schedule_options(epochs, True), 'randomness.seed': seed}
    for split in ('train', 'val', 'test'):
        prefix = _digits_prefix(method, split)
        options[f'{prefix}.data_root'] = digits_dir
        if limits:
            options[f'{prefix}.serialize_data'] = False
            if limits.get('train' if split == 'train' else 'val'):
                options[f'{prefix}.indices'] = limits['train' if split == 'train' else 'val']
    options[f'{_digits_prefix(method, "train")}.ann_file'] = ann_file
    return options


# ---------------------------------------------------------------------------------------- runs
@dataclass
class Run:
    """One ``tools/train.py`` run. ``needs``: ``{cfg key: name of the run whose final checkpoint
    goes there}`` (the pathway's aux, OmniVec's ``load_from``); ``target``: ``(method, regime,
    seed)`` of a target run, None for a pretraining."""
    name: str
    config: str
    work_dir: str
    options: Dict[str, Any]
    needs: Dict[str, str] = field(default_factory=dict)
    target: Optional[Tuple[str, str, int]] = None


@dataclass
class Trained:
    """What a run left: its final checkpoint, its wall seconds (the ``tools/train.py`` call) and
    the mean of the iteration times mmengine logged (seconds)."""
    checkpoint: str
    wall_s: float
    iter_s: Optional[float]


def iteration_time(work_dir: str) -> Optional[float]:
    """Mean of the training ``time`` values in the run's ``vis_data/scalars.json`` (mmengine's
    ``IterTimerHook``: one training iteration, data loading included, averaged by the log
    processor over its window); None without a log."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not logs:
        return None
    with open(logs[-1]) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    times = [e['time'] for e in entries if 'lr' in e and 'time' in e]  # train lines carry the lr
    return statistics.mean(times) if times else None


def train_in_process(config: str, work_dir: str, options: Dict[str, Any]) -> str:
    """``tools/train.py``'s ``main`` in this process (``--quick``: no interpreter start-up per run);
    returns the final checkpoint."""
    options = dict(options, log_level='WARNING',
                   experiment_name=f'compare_{osp.basename(work_dir)}')
    TRAIN_TOOL.main([config, '--work-dir', work_dir, '--cfg-options',
                     *demo.format_options(options)])
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def execute(run: Run, done: Dict[str, Trained], threads: int, in_process: bool) -> Trained:
    """Train ``run`` once the runs it needs are in ``done``."""
    options = dict(run.options,
                   **{key: done[need].checkpoint for key, need in run.needs.items()})
    start = time.perf_counter()
    if in_process:
        ckpt = train_in_process(run.config, run.work_dir, options)
    else:
        ckpt = demo.run_train(run.config, run.work_dir, options, threads)
    seconds = time.perf_counter() - start
    demo.log(f'train: {run.name} done in {seconds:.1f} s')
    return Trained(ckpt, round(seconds, 1), iteration_time(run.work_dir))


def train_all(runs: Sequence[Run], jobs: int, threads: int,
              in_process: bool) -> Dict[str, Trained]:
    """Every run, each after the runs it needs: in order in this process, or ``jobs`` processes
    at a time (a run is submitted after its needs, so a worker only ever waits on a run that has
    started). Any failure (or Ctrl-C) stops every run."""
    if in_process:
        done: Dict[str, Trained] = {}
        for run in runs:
            done[run.name] = execute(run, done, threads, True)
        return done
    futures: Dict[str, Future] = {}
    with ThreadPoolExecutor(jobs) as pool:
        try:
            for run in runs:
                def job(run: Run = run) -> Trained:
                    needed = {n: demo.wait_result(futures[n]) for n in run.needs.values()}
                    return execute(run, needed, threads, False)
                futures[run.name] = pool.submit(job)
            return {name: demo.wait_result(f) for name, f in futures.items()}
        except BaseException as e:
            demo.log(f'stopping ({type(e).__name__}): terminating the running trainings')
            demo.stop_children()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


# ---------------------------------------------------------------------------------------- inference
@functools.lru_cache(maxsize=None)
def load_config(config: str) -> 'Config':
    """``config`` parsed once (a parse with ``mmpretrain::`` bases takes about a second); callers
    do not modify it."""
    from mmengine.config import Config
    return Config.fromfile(osp.join(ROOT, config))


def build_deployed(config: str, checkpoint: str) -> 'torch.nn.Module':
    """The model of ``config`` (mmpretrain's ``get_model``: a copy of the config, its data
    preprocessor, eval mode) with ``checkpoint`` loaded ``strict=True``."""
    from mmpretrain.apis import get_model
    model = get_model(load_config(config))
    model.load_state_dict(demo.load_state_dict(checkpoint), strict=True)
    return model


def logits_fn(model: 'torch.nn.Module', x: 'torch.Tensor') -> Callable[[], 'torch.Tensor']:
    """The deployed computation on a normalised batch ``x``, input to logits: an
    ``ImageClassifier``'s ``'tensor'`` mode; OmniVec's image encoder, meta tokens, projection,
    trunk and the task's head (its ``'tensor'`` mode returns Omni embeddings instead)."""
    import torch
    from m2pt_mm.models.omnivec import OmniVec
    if isinstance(model, OmniVec):
        route, head = model.routes[OMNIVEC_TASK], model.heads[OMNIVEC_TASK]
        forward = lambda: head(route.features(model.encode(route.modality, x)))  # noqa: E731
    else:
        forward = lambda: model(x, mode='tensor')  # noqa: E731
    return torch.no_grad()(forward)


def predicted_scores(model: 'torch.nn.Module', x: 'torch.Tensor') -> 'torch.Tensor':
    """``pred_score`` of the model's own ``'predict'`` mode on ``x`` (to check ``logits_fn``)."""
    import torch
    from mmpretrain.structures import DataSample
    from m2pt_mm.models.omnivec import OmniVec
    with torch.no_grad():
        if isinstance(model, OmniVec):
            modality = model.routes[OMNIVEC_TASK].modality
            samples = [DataSample(metainfo=dict(task=OMNIVEC_TASK)) for _ in range(len(x))]
            out = model({modality: x}, {modality: samples}, mode='predict')
        else:
            out = model(x, mode='predict')
    return torch.stack([s.pred_score for s in out])


def measure_inference(checkpoints: Dict[str, str], m2pt_unmerged: str, batch_size: int,
                      rounds: int, min_run_time: float, threads: int) -> Dict[str, Any]:
    """Parameters and time per batch of the deployed models, timed in interleaved rounds
    (``tools/analysis/benchmark.py``'s ``measure``: ``Timer.blocked_autorange``) on one random
    normalised batch; and two checks on that batch: the timed forward gives the model's own
    predictions, and merged M2PT (``checkpoints['m2pt']``, in the plain config) gives the logits
    of the unmerged training checkpoint ``m2pt_unmerged``."""
    import torch
    configs = dict(baseline=CONFIGS['baseline'], m2pt=CONFIGS['baseline'],  # merged: plain ViT
                   omnivec=CONFIGS['omnivec'])
    x = torch.randn(batch_size, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    models = {m: build_deployed(configs[m], checkpoints[m]) for m in METHODS}
    fns = {m: logits_fn(model, x) for m, model in models.items()}
    unmerged = logits_fn(build_deployed(CONFIGS['m2pt'], m2pt_unmerged), x)()
    checks = dict(
        m2pt_merged_vs_unmerged_max_abs=(fns['m2pt']() - unmerged).abs().max().item(),
        softmax_vs_predict_max_abs={
            m: (torch.softmax(fns[m](), dim=1) - predicted_scores(models[m], x)).abs().max().item()
            for m in METHODS})
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        times: Dict[str, List[float]] = {m: [] for m in METHODS}
        for _ in range(rounds):
            for m in METHODS:
                times[m].append(BENCHMARK_TOOL.measure(fns[m], min_run_time).median)
    finally:
        torch.set_num_threads(previous)
    return dict(batch_size=batch_size, threads=threads, rounds=rounds, min_run_time=min_run_time,
                checks=checks, models={
                    m: dict(checkpoint=demo.show(checkpoints[m]),
                            params=sum(p.numel() for p in models[m].parameters()),
                            ms_min=1e3 * min(times[m]),
                            ms_median=1e3 * statistics.median(times[m])) for m in METHODS})


# ---------------------------------------------------------------------------------------- table
def verdict(diffs: Sequence[float], a: str, b: str) -> str:
    """What the seeds show about ``a − b``, claiming a direction only when every seed shows it."""
    n = len(diffs)
    up, down = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    if up == n:
        return f'{a} above {b} on every seed ({n}/{n})'
    if down == n:
        return f'{a} below {b} on every seed ({n}/{n})'
    return (f'no consistent difference between {a} and {b} ({a} above on {up}, below on {down}, '
            f'equal on {n - up - down} of {n} seeds)')


def format_results(results: Dict[str, Any]) -> str:
    """The markdown report of ``results`` (the JSON written beside it)."""
    seeds = results['seeds']
    lines = [f'**M2PT vs OmniVec on the digits** ({results["date"]}, {results["machine"]}; '
             f'`{results["command"]}`; wall time {results["wall_time_s"] / 60:.1f} min)', '',
             'Setup and fairness:', '']
    lines += [f'- {item}' for item in results['setup']]
    lines.append('')
    for regime, info in results['regimes'].items():
        top1 = results['top1'][regime]
        diffs = {pair: [x - y for x, y in zip(top1[pair[0]], top1[pair[1]])] for pair in PAIRS}
        lines += [f'Val top-1 (%), {info["label"]} ({info["train_images"]} train images, '
                  f'{info["epochs"]} epochs):', '',
                  '| seed | ' + ' | '.join(LABELS[m] for m in METHODS) + ' | '
                  + ' | '.join(f'{LABELS[a]} − {LABELS[b]}' for a, b in PAIRS) + ' |',
                  '|---' * (1 + len(METHODS) + len(PAIRS)) + '|']
        for i, seed in enumerate(seeds):
            lines.append(f'| {seed} | ' + ' | '.join(f'{top1[m][i]:.2f}' for m in METHODS)
                         + ' | ' + ' | '.join(f'{d[i]:+.2f}' for d in diffs.values()) + ' |')
        lines += ['| mean ± std | ' + ' | '.join(demo.mean_std(top1[m]) for m in METHODS) + ' | '
                  + ' | '.join(demo.mean_std(d) for d in diffs.values()) + ' |', '']
        lines += [f'- {verdict(d, LABELS[a], LABELS[b])}' for (a, b), d in diffs.items()]
        lines.append('')

    runs, inf = results['runs'], results['inference']
    regimes = list(results['regimes'])

    def cost(names: Sequence[str]) -> str:
        """Mean wall s / mean s per iteration of ``names``."""
        iters = [runs[n]['iter_s'] for n in names if runs[n]['iter_s'] is not None]
        per_iter = f'{1e3 * statistics.mean(iters):.0f} ms' if iters else '–'
        return f'{statistics.mean(runs[n]["wall_s"] for n in names):.0f} s / {per_iter}'

    pretraining = dict(baseline=[], m2pt=[['aux_mae']],
                       omnivec=[[f'omnivec_pretrain_{r}'] for r in regimes])
    deployed = dict(baseline='plain ViT', m2pt='merged: plain ViT',
                    omnivec='encoder + meta + projection + trunk + head')
    base_ms = inf['models']['baseline']['ms_median']
    lines += [f'Cost. Training: wall time of each `tools/train.py` run ({results["timing"]}) / '
              'mean time of one training iteration as mmengine logged it; means over seeds. '
              f'Inference: the deployed model, input → logits, batch {inf["batch_size"]}, '
              f'{inf["threads"]} thread, {inf["rounds"]} interleaved round(s) of '
              '`torch.utils.benchmark` `blocked_autorange`, ms per batch min / median:', '',
              '| method | pretraining | ' + ' | '.join(f'target, {r}' for r in regimes)
              + ' | deployed model | parameters | ms / batch | × baseline |',
              '|---' * (6 + len(regimes)) + '|']
    for m in METHODS:
        pre = ', '.join(cost(names) for names in pretraining[m]) or '—'
        target = ' | '.join(cost([f'{m}_{r}_seed{s}' for s in seeds]) for r in regimes)
        model = inf['models'][m]
        lines.append(f'| {LABELS[m]} | {pre} | {target} | {deployed[m]} | {model["params"]:,} | '
                     f'{model["ms_min"]:.2f} / {model["ms_median"]:.2f} | '
                     f'{model["ms_median"] / base_ms:.2f} |')
    checks = inf['checks']
    lambdas = ', '.join(f'{lam["mean_abs"]:.3f}' for lam in results['m2pt_lambda'])
    lines += ['', f'Pretraining cells: M2PT the aux MAE; OmniVec one per regime '
              f'({", ".join(regimes)}). Checks on the timed batch: M2PT merged vs unmerged max '
              f'|Δ logits| {checks["m2pt_merged_vs_unmerged_max_abs"]:.1e}; timed forward vs the '
              f'model\'s own prediction max |softmax − pred_score| '
              f'{max(checks["softmax_vs_predict_max_abs"].values()):.1e}. M2PT mean |λ| per seed '
              f'({FULL}): {lambdas}. One val image is {100 / results["num_val"]:.2f} points.']
    return '\n'.join(lines)


# ---------------------------------------------------------------------------------------- main
def machine() -> str:
    """``N-core <CPU model>, torch <version>`` of this machine."""
    import torch
    cpu = platform.processor() or platform.machine()
    if osp.isfile('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            models = [line.split(':', 1)[1].strip() for line in f if line.startswith('model name')]
        cpu = models[0] if models else cpu
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    return f'{cores}-core {cpu}, torch {torch.__version__}'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/compare', help='default work_dirs/compare')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--jobs', type=int, default=min(2, os.cpu_count() or 1),
                        help='runs at a time (default: min(2, CPUs)); each gets CPUs/jobs threads')
    parser.add_argument('--epochs', type=int, default=None,
                        help='target epochs with all training images (default: the config, 20)')
    parser.add_argument('--fraction', type=float, default=0.1,
                        help='the data-scarce regime: this stratified fraction of the training '
                        'images (default 0.1)')
    parser.add_argument('--scarce-epochs', type=int, default=100,
                        help='target epochs of the data-scarce regime (default 100: 3 batches an '
                        'epoch, 300 optimizer steps against 460 with all images)')
    parser.add_argument('--mae-epochs', type=int, default=None,
                        help='epochs of both pretrainings (default: the aux MAE config, 20)')
    parser.add_argument('--num-spectrograms', type=int, default=2000)
    parser.add_argument('--infer-batch-size', type=int, default=64)
    parser.add_argument('--infer-rounds', type=int, default=5)
    parser.add_argument('--quick', action='store_true',
                        help='a check that everything runs, in seconds: seed 0, 64 spectrograms, '
                        '1 epoch everywhere, 128 / 60 train / val images in the full regime, '
                        'runs in this process, one short timing round')
    args = parser.parse_args(argv)
    args.limits = None
    if args.quick:
        args.seeds, args.num_spectrograms, args.jobs = args.seeds[:1], 64, 1
        args.epochs = args.scarce_epochs = args.mae_epochs = 1
        args.limits = dict(train=128, val=60)
        args.infer_batch_size, args.infer_rounds = 8, 1
    if args.jobs < 1 or args.infer_rounds < 1:
        parser.error(f'--jobs and --infer-rounds must be >= 1, got {args.jobs} and '
                     f'{args.infer_rounds}')
    return args


def plan_runs(args: argparse.Namespace, work: str, data: Dict[str, str],
              regimes: Dict[str, Dict[str, Any]], pretrain_batches: int) -> List[Run]:
    """The pretrainings, then per method, regime and seed the target run; every run after the
    ones it needs."""
    pre_schedule = demo.schedule_options(args.mae_epochs, False)
    spectrograms = 'train_dataloader.dataset'
    runs = [Run('aux_mae', CONFIGS['aux'], osp.join(work, 'aux_mae'),
                {f'{spectrograms}.data_root': data['spectrograms'], **pre_schedule})]
    sources = 'train_dataloader.dataset.sources'
    for regime, info in regimes.items():
        runs.append(Run(f'omnivec_pretrain_{regime}', CONFIGS['omnivec_pretrain'],
                        osp.join(work, f'omnivec_pretrain_{regime}'), {
                            f'{sources}.spectrograms.dataset.data_root': data['spectrograms'],
                            f'{sources}.digits.dataset.data_root': data['digits'],
                            f'{sources}.digits.dataset.ann_file': info['ann_file'],
                            # as many optimizer steps as the aux MAE: one epoch of spectrograms
                            'train_dataloader.sampler.batches_per_epoch': pretrain_batches,
                            **pre_schedule}))
    if args.quick:
        for run, prefixes in zip(runs, [[spectrograms]] + [[f'{sources}.spectrograms.dataset',
                                                            f'{sources}.digits.dataset']] * 2):
            run.options.update(QUICK_OPTIONS, **{f'{p}.serialize_data': False for p in prefixes})
    needs = dict(baseline=lambda r: {},
                 m2pt=lambda r: {'model.backbone.pathway.aux_checkpoint': 'aux_mae'},
                 omnivec=lambda r: {'load_from': f'omnivec_pretrain_{r}'})
    for method in METHODS:
        for regime, info in regimes.items():
            # --quick: the first images of the full set; the scarce list is short already
            limits = args.limits if regime == FULL else args.limits and dict(args.limits,
                                                                            train=None)
            for seed in args.seeds:
                name = f'{method}_{regime}_seed{seed}'
                options = target_options(method, data['digits'], info['ann_file'],
                                         info['epochs'], seed, limits)
                if args.quick:
                    options.update(QUICK_OPTIONS)
                runs.append(Run(name, CONFIGS[method], osp.join(work, name), options,
                                needs[method](regime), (method, regime, seed)))
    return runs


def setup_lines(args: argparse.Namespace, num_val: int, pretrain_batches: int,
                mae_batch: int) -> List[str]:
    """What was compared and how the budgets were matched, for the report."""
    return [
        'Target: digits 32×32, tiny ViT (4 blocks × 64, 8×8 patches); every method trains on the '
        'same images with the same pipeline (random shifts), AdamW recipe, epochs and seeds '
        f'({list(args.seeds)}); val top-1 on the same {num_val} val images (`Runner.test()`).',
        'M2PT: the baseline plus a pathway (W + λW′) in every block linear to a MAE pretrained on '
        f'{args.num_spectrograms} synthetic log-mel spectrograms; merged after training.',
        'OmniVec: one trunk of the same blocks, masked pretraining on the same spectrograms '
        '(audio encoder) and the regime\'s digit images (image encoder), then the baseline\'s '
        'recipe from its image encoder, meta tokens, projection and trunk, with a fresh head.',
        f'Pretraining budget matched in optimizer steps: both pretrainings run '
        f'{pretrain_batches * args.mae_epochs} steps ({args.mae_epochs} epochs × '
        f'{pretrain_batches} batches of {mae_batch}) with the same AdamW schedule, mask ratio '
        '0.75 and 2-block decoder; an OmniVec batch is half spectrograms, half digits, so it sees '
        'half the spectrograms the aux MAE sees.',
        'OmniVec pretrains once per regime on that regime\'s digit images only (no labels); the '
        'aux MAE sees no digits.',
    ]


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Run the comparison as the command line says; returns the results (also written)."""
    args = parse_args(argv)
    start = time.time()
    command = shlex.join(['python', 'tools/analysis/compare_strategies.py',
                          *(sys.argv[1:] if argv is None else argv)])
    work = demo.show(osp.abspath(args.work_dir))
    os.chdir(ROOT)  # paths inside the repository stay relative to it: see the module docstring
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    demo.log(f'M2PT vs OmniVec in {work}: seeds {args.seeds}, '
             + ('in this process' if args.quick else
                f'{args.jobs} run(s) at a time, {threads} thread(s) each'))
    data = demo.prepare_data(osp.join(work, 'data'), args.num_spectrograms)
    scarce_file, scarce_count = write_train_subset(data['digits'], args.fraction)
    with open(osp.join(data['digits'], 'meta', 'train.txt')) as f:
        num_train = sum(1 for _ in f)
    with open(osp.join(data['digits'], 'meta', 'val.txt')) as f:
        num_val = sum(1 for _ in f)
    if args.limits:
        num_train, num_val = args.limits['train'], args.limits['val']
    aux_cfg = load_config(CONFIGS['aux'])
    args.mae_epochs = args.mae_epochs or aux_cfg.train_cfg.max_epochs
    pct = round(args.fraction * 100)
    regimes = {FULL: dict(label='all training images', ann_file='meta/train.txt',
                          train_images=num_train,
                          epochs=args.epochs or
                          load_config(CONFIGS['baseline']).train_cfg.max_epochs),
               f'{pct}pct': dict(label=f'{pct} % of the training images (stratified, fixed)',
                                 ann_file=scarce_file, train_images=scarce_count,
                                 epochs=args.scarce_epochs)}
    # OmniVec's pretraining: as many batches per epoch as the aux MAE (whose last one is short)
    mae_batch = aux_cfg.train_dataloader.batch_size
    pretrain_batches = math.ceil(args.num_spectrograms / mae_batch)
    runs = plan_runs(args, work, data, regimes, pretrain_batches)
    done = train_all(runs, args.jobs, threads, in_process=args.quick)
    demo.log(f'train: {len(runs)} runs done')

    top1 = {r: {m: [] for m in METHODS} for r in regimes}
    for run in runs:
        if run.target is not None:
            method, regime, _ = run.target
            # an OmniVec checkpoint is checked strictly here (its config only reports, for the
            # load_from of the pretraining checkpoint, whose keys differ by design)
            strict = STRICT_CHECK if method == 'omnivec' else {}
            top1[regime][method].append(demo.evaluate(
                run.config, done[run.name].checkpoint, {**run.options, **strict},
                keep_logits=False)[0])
    demo.log('evaluation: val top-1 of every final checkpoint by Runner.test()')

    first = {m: done[f'{m}_{FULL}_seed{args.seeds[0]}'].checkpoint for m in METHODS}
    inference = measure_inference(
        dict(first, m2pt=demo.ensure_deploy(first['m2pt'])), first['m2pt'],
        args.infer_batch_size, args.infer_rounds, 0.01 if args.quick else 0.5, threads=1)
    demo.log('inference: parameters and time per batch of the deployed models')

    results = {
        'date': time.strftime('%Y-%m-%d'), 'machine': machine(), 'command': command,
        'quick': args.quick, 'seeds': list(args.seeds), 'num_val': num_val,
        'setup': setup_lines(args, num_val, pretrain_batches, mae_batch),
        'timing': 'in this process' if args.quick else
                  f'a process each, {args.jobs} at a time, {threads} thread(s) each, start-up '
                  'included',
        'regimes': regimes, 'top1': top1,
        'runs': {name: dict(checkpoint=demo.show(t.checkpoint), wall_s=t.wall_s, iter_s=t.iter_s)
                 for name, t in done.items()},
        'm2pt_lambda': [demo.lambda_summary(done[f'm2pt_{FULL}_seed{s}'].checkpoint)
                        for s in args.seeds],
        'inference': inference,
        'wall_time_s': round(time.time() - start, 1)}
    demo.write_results(work, results, format_results(results))
    return results


if __name__ == '__main__':
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    main()
