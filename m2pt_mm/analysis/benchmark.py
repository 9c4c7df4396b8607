"""Benchmark M2PT's training and inference cost against a plain ViT.

The paper promises "marginal training cost, zero inference cost". This tool measures, in one
process, on the same inputs and in interleaved rounds (M2PT and plain alternate), with
``torch.utils.benchmark.Timer.blocked_autorange`` (it warms up, picks a block size, and on an
accelerator synchronises before reading the clock):

* train: one step (forward + backward, then the optimiser) of an M2PT ViT against a stock
  mmpretrain ``VisionTransformer`` (same linear head) in three settings: ``all`` (everything
  trains), ``aux-frozen`` (W′ frozen) and ``fix`` (only λ and the head train; plain: only the head);
* floor: the least extra work M2PT must do per step, timed on tensors of the model's reparam linear
  shapes: (a) ``W + λW′``, (b) ``λ·g`` and ``Σ g⊙W′``, (c) AdamW on W′-sized parameters;
* inference: the merged M2PT model (``switch_to_deploy``) and the unmerged one in eval mode (eval
  cache) against the stock ViT holding the merged weights (loaded with ``strict=True``);
* memory: peak memory of a train step (RSS peak with the kernel's mark reset; CUDA:
  ``torch.cuda.max_memory_allocated``);
* parameter counts.

Precision: fp32, or ``--amp bf16`` (forward and loss under ``torch.autocast`` bf16; parameters,
gradients and the optimiser stay fp32).

:func:`run_benchmark` writes ``benchmark.json`` and ``benchmark.md`` to ``out_dir`` and prints the
markdown; ``tools/analysis/benchmark.py`` is its command line. Targets are reported as PASS/MISS,
never as a failure. See ``docs/benchmarks.md``.
"""
import argparse
import copy
import ctypes
import functools
import gc
import json
import os
import os.path as osp
import platform
import statistics
import time
from typing import Any, Callable, ContextManager, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils import benchmark

from m2pt_mm.testing.tiny import TINY

SETTINGS = ('all', 'aux-frozen', 'fix')
PARTS = ('train', 'floor', 'inference', 'memory')
PRECISIONS = ('fp32', 'bf16')
#: Default training batches of the full (ViT-B/16, 224²) run per device.
DEFAULT_BATCH_SIZES = {'cpu': [8, 32], 'cuda': [64, 128]}
NUM_CLASSES = 1000
AUX_STD, SCALE = 0.02, 0.1
#: The targets the report judges: extra step time vs the floor, step-time ratios at the largest
#: batch, inference ratios and the merged model's output difference.
EXTRA_VS_FLOOR = 1.2
RATIO_TARGETS = {'all': 1.04, 'aux-frozen': 1.025}
MERGED_RATIO_TOL, UNMERGED_RATIO_MAX, MAX_ABS_DIFF = 0.02, 1.01, 1e-5
T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f'[{time.perf_counter() - T0:7.1f}s] {msg}', flush=True)


# ---------------------------------------------------------------------------- device helpers
def autocast(device: torch.device, amp: str) -> ContextManager:
    """``torch.autocast`` to bf16 for ``amp='bf16'``; a disabled one (fp32) otherwise."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp == 'bf16')


def measure(fn: Callable[[], Any], min_run_time: float) -> benchmark.Measurement:
    """Time ``fn()`` with ``torch.utils.benchmark``: ``blocked_autorange`` first runs it to size a
    block (which also warms it up), then times whole blocks until ``min_run_time`` seconds are
    spent; with an accelerator present its clock synchronises first. ``num_threads`` is the
    current torch setting (Timer's default of 1 would change what is measured on CPU)."""
    timer = benchmark.Timer(stmt='fn()', globals={'fn': fn}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time)


def fused_adamw_supported(device: torch.device) -> bool:
    """Whether ``AdamW(fused=True)`` steps on ``device`` (CPU has a fused kernel in recent
    torch)."""
    try:
        param = nn.Parameter(torch.zeros(4, device=device))
        param.grad = torch.ones_like(param)
        torch.optim.AdamW([param], fused=True).step()
        return True
    except (RuntimeError, ValueError, TypeError):
        return False


def make_optimizer(params: Iterable[Tensor], fused: bool) -> torch.optim.Optimizer:
    """AdamW on ``params``, fused where supported, else the multi-tensor (foreach) path."""
    params = list(params)
    if fused:
        return torch.optim.AdamW(params, lr=1e-4, fused=True)
    return torch.optim.AdamW(params, lr=1e-4, foreach=True)


def device_name(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    try:
        with open('/proc/cpuinfo') as f:
            models = [line.split(':', 1)[1].strip() for line in f if line.startswith('model name')]
        return f'{models[0]} ({len(models)} CPUs)'
    except (OSError, IndexError):
        return platform.processor() or platform.machine()


def stats(times: Sequence[float]) -> Dict[str, Any]:
    """``min``, ``median`` and all ``times`` (seconds per call)."""
    return dict(min=min(times), median=statistics.median(times), times=list(times))


def rotated(names: Sequence[str], r: int) -> List[str]:
    """``names`` starting at ``r`` (mod len): rotating the order each round makes a drift in
    machine load hit every model alike."""
    names = list(names)
    return names[r % len(names):] + names[:r % len(names)]


# ---------------------------------------------------------------------------- models
class Classifier(nn.Module):
    """Backbone + linear head on the class token, the same head for M2PT and plain."""

    def __init__(self, backbone: nn.Module, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.embed_dims, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.backbone(x)[-1])


def arch_arg(args: argparse.Namespace) -> Any:
    # the --quick model: m2pt_mm.testing's tiny ViT (4 blocks of 32 dims)
    return copy.deepcopy(TINY) if args.arch == 'tiny' else args.arch


def build_plain(args: argparse.Namespace, setting: str = 'all') -> nn.Module:
    """Stock mmpretrain ViT; in the ``fix`` setting its backbone is frozen (only the head
    trains)."""
    from mmpretrain.models import VisionTransformer
    backbone = VisionTransformer(arch=arch_arg(args), img_size=args.img_size,
                                 patch_size=args.patch_size)
    if setting == 'fix':
        backbone.requires_grad_(False)
    return backbone


def build_m2pt(args: argparse.Namespace, setting: str = 'all',
               recompute: bool = False) -> nn.Module:
    """M2PT ViT with random W′ and λ = 0.1 (timings do not depend on the values, but λ ≠ 0 makes
    the inference comparison meaningful)."""
    from m2pt_mm.models.backbones.m2pt_vit import M2PTVisionTransformer
    from m2pt_mm.testing.tiny import pathway_stand_ins
    backbone = M2PTVisionTransformer(
        arch=arch_arg(args), img_size=args.img_size, patch_size=args.patch_size,
        pathway=dict(aux_checkpoint=None, aux_trainable=setting != 'aux-frozen',
                     recompute=recompute),
        fix_weights=setting == 'fix')
    pathway_stand_ins(backbone, AUX_STD, SCALE)
    return backbone


def build_classifier(kind: str, args: argparse.Namespace, setting: str,
                     device: torch.device) -> nn.Module:
    torch.manual_seed(0)
    if kind == 'plain':
        backbone = build_plain(args, setting)
    elif kind in ('m2pt', 'm2pt-recompute'):
        backbone = build_m2pt(args, setting, recompute=kind == 'm2pt-recompute')
    else:
        raise ValueError(f"model kind must be 'plain', 'm2pt' or 'm2pt-recompute', got {kind!r}")
    torch.manual_seed(1)  # the same head initialisation for every kind
    return Classifier(backbone).to(device).train()


def count_params(model: nn.Module) -> Dict[str, int]:
    params = list(model.parameters())
    return dict(total=sum(p.numel() for p in params),
                trainable=sum(p.numel() for p in params if p.requires_grad))


def reparam_shapes(model: nn.Module) -> List[Tuple[int, int, int]]:
    """``(out, in, num_aux)`` of every reparam linear of ``model``."""
    from m2pt_mm.pathway import CrossModalReparamLinear
    return [(m.out_features, m.in_features, m.num_aux) for m in model.modules()
            if isinstance(m, CrossModalReparamLinear) and m.num_aux > 0]


def model_kinds(args: argparse.Namespace) -> List[str]:
    return ['m2pt', 'plain'] + (['m2pt-recompute'] if args.recompute else [])


def make_batch(args: argparse.Namespace, batch: int,
               device: torch.device) -> Tuple[Tensor, Tensor]:
    gen = torch.Generator().manual_seed(batch)
    images = torch.randn(batch, 3, args.img_size, args.img_size, generator=gen)
    labels = torch.randint(0, NUM_CLASSES, (batch, ), generator=gen)
    return images.to(device), labels.to(device)


# ---------------------------------------------------------------------------- train step
class TrainStep:
    """The two timed halves of a train step of ``model``: forward + backward (gradients reset
    first, as ``zero_grad(set_to_none=True)`` before every step does), and the optimiser step."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, images: Tensor,
                 labels: Tensor, device: torch.device, amp: str) -> None:
        self.model, self.optimizer = model, optimizer
        self.images, self.labels = images, labels
        self.device, self.amp = device, amp

    def forward_backward(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self.device, self.amp):
            loss = F.cross_entropy(self.model(self.images), self.labels)
        loss.backward()

    def optimizer_step(self) -> None:
        self.optimizer.step()

    def __call__(self) -> None:
        self.forward_backward()
        self.optimizer_step()


def compare(candidate: Dict[str, Any], baseline: Dict[str, Any]) -> Dict[str, float]:
    """Ratios and extra seconds of ``candidate`` over ``baseline``, by min and by median."""
    out = {}
    for stat in ('min', 'median'):
        cand, base = candidate['step_s'][stat], baseline['step_s'][stat]
        out[f'ratio_{stat}'] = cand / base
        out[f'extra_s_{stat}'] = cand - base
        out[f'fwd_bwd_ratio_{stat}'] = candidate['fwd_bwd_s'][stat] / baseline['fwd_bwd_s'][stat]
        out[f'optimizer_extra_s_{stat}'] = (candidate['optimizer_s'][stat]
                                            - baseline['optimizer_s'][stat])
    return out


def run_train(args: argparse.Namespace, setting: str, batch: int, device: torch.device,
              fused: bool) -> Dict[str, Any]:
    """Time every model kind in ``setting`` at ``batch``: warm-up, then interleaved rounds; in a
    round each half-step of each model is one ``measure`` (its median is the round's figure)."""
    kinds = model_kinds(args)
    images, labels = make_batch(args, batch, device)
    steps, params = {}, {}
    for kind in kinds:
        model = build_classifier(kind, args, setting, device)
        optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], fused)
        steps[kind] = TrainStep(model, optimizer, images, labels, device, args.amp)
        params[kind] = count_params(model)
    name = f'train {setting} b={batch} {args.amp}'
    for i in range(args.warmup):
        for kind in kinds:
            steps[kind]()
        log(f'{name}: warm-up {i + 1}/{args.warmup}')
    times: Dict[str, Tuple[List[float], List[float]]] = {kind: ([], []) for kind in kinds}
    for r in range(args.steps):
        for kind in rotated(kinds, r):
            times[kind][0].append(measure(steps[kind].forward_backward, args.min_run_time).median)
            times[kind][1].append(measure(steps[kind].optimizer_step, args.min_run_time).median)
        log(f'{name}: round {r + 1}/{args.steps}  ' + '  '.join(
            f'{kind} {times[kind][0][-1] + times[kind][1][-1]:.4f}s' for kind in kinds))
    results = {}
    for kind in kinds:
        fwd_bwd, opt = times[kind]
        results[kind] = dict(fwd_bwd_s=stats(fwd_bwd), optimizer_s=stats(opt),
                             step_s=stats([a + b for a, b in zip(fwd_bwd, opt)]))
    del steps
    gc.collect()
    comparisons = {kind: compare(results[kind], results['plain']) for kind in kinds
                   if kind != 'plain'}
    if 'm2pt-recompute' in results:
        comparisons['m2pt-recompute_vs_m2pt'] = compare(results['m2pt-recompute'], results['m2pt'])
    return dict(setting=setting, batch_size=batch, amp=args.amp, models=results,
                comparisons=comparisons, params=params)


# ---------------------------------------------------------------------------- floor
def run_floor(args: argparse.Namespace, shapes: Sequence[Tuple[int, int, int]],
              device: torch.device, fused: bool) -> Dict[str, Any]:
    """Time the least extra work of an M2PT step on tensors of the reparam linear shapes.

    (a) ``W + λW′`` over all layers (one ``addcmul`` each: read W and W′, write the sum);
    (b) ``λ·g`` (the W′ gradient) plus ``Σ g⊙W′`` (the λ gradient, one dot product each);
    (c) an AdamW step on W′-sized parameters, with the same implementation as the models.
    """
    gen = torch.Generator().manual_seed(0)
    tensors = []
    for out_f, in_f, num_aux in shapes:
        for _ in range(num_aux):
            weight = torch.randn(out_f, in_f, generator=gen).to(device)
            aux = torch.randn(out_f, in_f, generator=gen).to(device)
            grad = torch.randn(out_f, in_f, generator=gen).to(device)
            tensors.append((weight, aux, grad, torch.full((1, ), SCALE, device=device)))
    aux_params = [nn.Parameter(aux.clone()) for _, aux, _, _ in tensors]
    for param, (_, _, grad, _) in zip(aux_params, tensors):
        param.grad = grad  # AdamW only reads it
    optimizer = make_optimizer(aux_params, fused)

    def merge() -> List[Tensor]:
        return [torch.addcmul(w, s, a) for w, a, _, s in tensors]

    def grad_scale() -> List[Tensor]:
        return [torch.dot(g.reshape(-1), a.reshape(-1)) for _, a, g, _ in tensors]

    def grad_aux() -> List[Tensor]:
        return [g * s for _, _, g, s in tensors]

    # the first AdamW step allocates its state: it happens in the Timer's block-size run
    parts = dict(merge_s=merge, grad_aux_s=grad_aux, grad_scale_s=grad_scale,
                 adamw_s=optimizer.step)
    times: Dict[str, List[float]] = {name: [] for name in parts}
    for r in range(args.steps):
        for name in rotated(parts, r):
            times[name].append(measure(parts[name], args.min_run_time).median)
    result: Dict[str, Any] = {name: stats(t) for name, t in times.items()}
    for stat in ('min', 'median'):
        merge_s, aux_s = result['merge_s'][stat], result['grad_aux_s'][stat]
        scale_s, adamw_s = result['grad_scale_s'][stat], result['adamw_s'][stat]
        # W′ frozen (and fix): no W′ gradient and no optimiser on W′, λ's gradient remains
        result[f'floor_{stat}'] = {'all': merge_s + aux_s + scale_s + adamw_s,
                                   'aux-frozen': merge_s + scale_s,
                                   'fix': merge_s + scale_s}
    result['shapes'] = [list(s) for s in shapes]
    result['reparam_params'] = sum(o * i * k for o, i, k in shapes)
    log(f'floor: merge {result["merge_s"]["median"]:.4f}s  '
        f'grad W′ {result["grad_aux_s"]["median"]:.4f}s  '
        f'grad λ {result["grad_scale_s"]["median"]:.4f}s  adamw {result["adamw_s"]["median"]:.4f}s')
    return result


# ---------------------------------------------------------------------------- inference
def run_inference(args: argparse.Namespace, device: torch.device) -> Dict[str, Any]:
    """Stock ViT (merged weights, strict load) vs merged M2PT vs unmerged M2PT in eval mode."""
    m2pt = build_m2pt(args, 'all').to(device)
    merged = copy.deepcopy(m2pt)
    merged.switch_to_deploy()
    stock = build_plain(args).to(device)
    stock.load_state_dict(merged.state_dict(), strict=True)
    models = dict(stock=stock, merged=merged, unmerged=m2pt)
    for model in models.values():
        model.eval()  # not chained: mmpretrain's BaseBackbone.train returns None
    images, _ = make_batch(args, args.infer_batch_size, device)

    def forward(name: str) -> Tensor:
        with torch.no_grad(), autocast(device, args.amp):
            return models[name](images)[-1]

    for i in range(args.warmup):
        for name in models:
            forward(name)
    times: Dict[str, List[float]] = {name: [] for name in models}
    for r in range(args.steps):
        for name in rotated(models, r):
            times[name].append(measure(functools.partial(forward, name), args.min_run_time).median)
        log(f'inference b={args.infer_batch_size} {args.amp}: round {r + 1}/{args.steps}')
    outputs = {name: forward(name) for name in models}
    result: Dict[str, Any] = dict(batch_size=args.infer_batch_size,
                                  models={name: stats(t) for name, t in times.items()})
    for name in ('merged', 'unmerged'):
        for stat in ('min', 'median'):
            result[f'ratio_{name}_{stat}'] = (result['models'][name][stat]
                                              / result['models']['stock'][stat])
        diff = (outputs[name].double() - outputs['stock'].double()).abs().max().item()
        result[f'max_abs_diff_{name}'] = diff
    result['dtype'] = str(outputs['stock'].dtype)
    return result


# ---------------------------------------------------------------------------- memory
def _rss_status() -> Optional[Dict[str, int]]:
    try:
        with open('/proc/self/status') as f:
            fields = dict(line.split(':', 1) for line in f if ':' in line)
        return {k: int(fields[k].split()[0]) * 1024 for k in ('VmRSS', 'VmHWM')}
    except (OSError, KeyError, ValueError):
        return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False where unsupported."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


class _Libc:
    """glibc's allocator knobs, so that RSS follows the live tensors (no-ops elsewhere)."""

    M_MMAP_THRESHOLD = -3

    def __init__(self) -> None:
        try:
            self.libc: Optional[ctypes.CDLL] = ctypes.CDLL('libc.so.6')
        except OSError:
            self.libc = None

    def map_large_blocks(self, threshold: int = 128 * 1024) -> None:
        # a fixed threshold turns off glibc's adaptive one, which would otherwise keep freed
        # tensors in the heap (counted in RSS) after the first few large frees
        if self.libc is not None:
            self.libc.mallopt(self.M_MMAP_THRESHOLD, threshold)

    def trim(self) -> None:
        gc.collect()
        if self.libc is not None:
            self.libc.malloc_trim(0)


def measure_memory(args: argparse.Namespace, setting: str, kind: str, device: torch.device,
                   fused: bool, libc: _Libc) -> Dict[str, Any]:
    """Peak memory of one train step after a warm-up step (optimiser state already allocated).

    ``state_mb``: model, optimiser state and everything else alive between steps, above what the
    process held before building the model; ``step_peak_mb``: the step's peak above that (gradients,
    activations, temporaries). CPU: RSS from ``/proc/self/status`` with the peak mark reset; CUDA:
    ``torch.cuda.max_memory_allocated``.
    """
    mb = 1024.0 ** 2
    cuda = device.type == 'cuda'
    libc.trim()
    if cuda:
        torch.cuda.empty_cache()
        before = torch.cuda.memory_allocated(device)
    else:
        status = _rss_status()
        if status is None:
            raise RuntimeError('peak memory on CPU needs /proc/self/status (Linux)')
        before = status['VmRSS']
    model = build_classifier(kind, args, setting, device)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], fused)
    images, labels = make_batch(args, args.mem_batch_size, device)
    step = TrainStep(model, optimizer, images, labels, device, args.amp)
    step()
    optimizer.zero_grad(set_to_none=True)
    libc.trim()
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        method = 'torch.cuda.max_memory_allocated'
    else:
        if not _reset_peak_rss():
            raise RuntimeError('peak memory on CPU needs a writable /proc/self/clear_refs (Linux)')
        base = _rss_status()['VmRSS']
        method = 'VmHWM - VmRSS (/proc/self/status, peak reset via clear_refs)'
    step()
    if cuda:
        torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) if cuda else _rss_status()['VmHWM']
    return dict(setting=setting, kind=kind, batch_size=args.mem_batch_size,
                state_mb=(base - before) / mb, step_peak_mb=(peak - base) / mb,
                total_mb=(peak - before) / mb, method=method)


def run_memory(args: argparse.Namespace, device: torch.device, fused: bool,
               warm: bool) -> List[Dict[str, Any]]:
    """Measure every (setting, kind) in turn, after the timings (the allocator change below would
    slow the timed steps). ``warm``: the configurations already ran in this process, so one-time
    allocations (thread pools, kernel caches) are not charged to the first measurement."""
    libc = _Libc()
    libc.map_large_blocks()
    kinds = model_kinds(args)
    if not warm:
        measure_memory(args, args.settings[0], kinds[0], device, fused, libc)
    results = []
    for setting in args.settings:
        for kind in kinds:
            results.append(measure_memory(args, setting, kind, device, fused, libc))
            log(f'memory {setting} {kind} b={args.mem_batch_size}: state '
                f'{results[-1]["state_mb"]:.1f} MB, step peak {results[-1]["step_peak_mb"]:.1f} MB')
    return results


# ---------------------------------------------------------------------------- report
def judge(name: str, value: float, ok: bool, target: str) -> Dict[str, Any]:
    return dict(name=name, value=value, target=target, result='PASS' if ok else 'MISS')


def evaluate_targets(report: Dict[str, Any], stat: str) -> List[Dict[str, Any]]:
    """PASS/MISS against the issue's targets, on the ``stat`` (min or median) of the steps."""
    targets = []
    floor = report.get('floor')
    train = report.get('train', [])
    largest = max((entry['batch_size'] for entry in train), default=None)
    for entry in train:
        setting, batch = entry['setting'], entry['batch_size']
        comp = entry['comparisons']['m2pt']
        if floor is not None and setting in RATIO_TARGETS:
            floor_s = floor[f'floor_{stat}'][setting]
            extra = comp[f'extra_s_{stat}']
            targets.append(judge(f'train {setting} b={batch}: extra s / floor', extra / floor_s,
                                 extra <= EXTRA_VS_FLOOR * floor_s, f'<= {EXTRA_VS_FLOOR}'))
        if setting in RATIO_TARGETS and batch == largest:
            ratio = comp[f'ratio_{stat}']
            targets.append(judge(f'train {setting} b={batch}: step ratio M2PT/plain', ratio,
                                 ratio <= RATIO_TARGETS[setting], f'<= {RATIO_TARGETS[setting]}'))
    inf = report.get('inference')
    if inf is not None:
        ratio = inf[f'ratio_merged_{stat}']
        targets.append(judge('inference merged/stock time ratio', ratio,
                             abs(ratio - 1) <= MERGED_RATIO_TOL, f'1.00 ± {MERGED_RATIO_TOL}'))
        targets.append(judge('inference merged vs stock max|Δ|', inf['max_abs_diff_merged'],
                             inf['max_abs_diff_merged'] <= MAX_ABS_DIFF, f'<= {MAX_ABS_DIFF:g}'))
        ratio = inf[f'ratio_unmerged_{stat}']
        targets.append(judge('inference unmerged (eval cache)/stock time ratio', ratio,
                             ratio <= UNMERGED_RATIO_MAX, f'<= {UNMERGED_RATIO_MAX}'))
    return targets


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: '| ' + ' | '.join(c.ljust(w) for c, w in zip(r, widths)) + ' |'  # noqa: E731
    return '\n'.join([line(cells[0]), '|' + '|'.join('-' * (w + 2) for w in widths) + '|']
                     + [line(r) for r in cells[1:]])


def fmt_s(s: Dict[str, Any]) -> str:
    return f'{s["min"]:.4f} / {s["median"]:.4f}'


def render_markdown(report: Dict[str, Any]) -> str:
    meta = report['meta']
    stat = meta['judge']
    out = [f'# M2PT benchmark ({meta["arch"]}, {meta["img_size"]}², {meta["amp"]}, '
           f'{meta["device_name"]})', '',
           f'torch {meta["torch"]}, mmpretrain {meta["mmpretrain"]}, {meta["threads"]} threads, '
           f'optimiser AdamW {meta["optimizer"]}, {meta["warmup"]} warm-up + {meta["steps"]} '
           f'interleaved rounds, each a torch.utils.benchmark `blocked_autorange('
           f'min_run_time={meta["min_run_time"]:g})` per model; times are min / median over the '
           f'rounds of seconds per call; targets judged on the {stat}.', '']
    floor = report.get('floor')
    if report.get('train'):
        out += ['## Train step', '']
        rows = []
        for entry in report['train']:
            setting, batch = entry['setting'], entry['batch_size']
            floor_s = floor[f'floor_{stat}'][setting] if floor else None
            for kind, res in entry['models'].items():
                comp = entry['comparisons'].get(kind)
                rows.append([setting, batch, kind, fmt_s(res['fwd_bwd_s']),
                             fmt_s(res['optimizer_s']), fmt_s(res['step_s']),
                             f'{comp[f"ratio_{stat}"]:.3f}' if comp else '-',
                             f'{comp[f"extra_s_{stat}"]:+.4f}' if comp else '-',
                             f'{floor_s:.4f}' if comp and floor_s is not None else '-'])
        out += [md_table(['setting', 'batch', 'model', 'fwd+bwd s', 'optimiser s', 'step s',
                          'ratio vs plain', 'extra s', 'floor s'], rows), '']
        if any(entry['setting'] == 'fix' for entry in report['train']):
            out += ['`fix`: the plain baseline trains only the head, so it does no backward pass '
                    'through the backbone; M2PT must (λ is inside every block). Its ratio is not '
                    'the pathway overhead and has no target.', '']
    if floor:
        out += ['## Floor (tensors of the reparam linear shapes, '
                f'{floor["reparam_params"] / 1e6:.2f} M W′ parameters)', '',
                md_table(['part', 's (min / median)'], [
                    ['(a) W + λW′', fmt_s(floor['merge_s'])],
                    ['(b) λ·g (W′ gradient)', fmt_s(floor['grad_aux_s'])],
                    ['(b) Σ g⊙W′ (λ gradient)', fmt_s(floor['grad_scale_s'])],
                    ['(c) AdamW step on W′', fmt_s(floor['adamw_s'])],
                    ['floor, all trainable', f'{floor["floor_min"]["all"]:.4f} / '
                                             f'{floor["floor_median"]["all"]:.4f}'],
                    ['floor, W′ frozen / fix', f'{floor["floor_min"]["aux-frozen"]:.4f} / '
                                               f'{floor["floor_median"]["aux-frozen"]:.4f}']]), '']
    inf = report.get('inference')
    if inf:
        out += [f'## Inference (batch {inf["batch_size"]}, no_grad, eval, {meta["amp"]})', '',
                md_table(['model', 's (min / median)', f'ratio vs stock ({stat})',
                          'max|Δ| vs stock'], [
                    ['stock ViT (merged weights)', fmt_s(inf['models']['stock']), '1.000', '-'],
                    ['M2PT merged', fmt_s(inf['models']['merged']),
                     f'{inf[f"ratio_merged_{stat}"]:.3f}', f'{inf["max_abs_diff_merged"]:.2e}'],
                    ['M2PT unmerged (eval cache)', fmt_s(inf['models']['unmerged']),
                     f'{inf[f"ratio_unmerged_{stat}"]:.3f}',
                     f'{inf["max_abs_diff_unmerged"]:.2e}']]),
                '']
    if report.get('memory'):
        rows = [[m['setting'], m['kind'], m['batch_size'], f'{m["state_mb"]:.1f}',
                 f'{m["step_peak_mb"]:.1f}', f'{m["total_mb"]:.1f}'] for m in report['memory']]
        out += ['## Peak memory of a train step', '',
                md_table(['setting', 'model', 'batch', 'state MB', 'step peak MB', 'total MB'],
                         rows),
                '', f'Method: {report["memory"][0]["method"]}; state = parameters + optimiser '
                'state; step peak = gradients + activations + temporaries above that.', '']
    if report.get('params'):
        rows = [[name, f'{p["total"]:,}', f'{p["trainable"]:,}']
                for name, p in report['params'].items()]
        out += ['## Parameters (with head)', '', md_table(['model', 'total', 'trainable'], rows),
                '']
    if report.get('targets'):
        rows = [[t['name'], f'{t["value"]:.4g}', t['target'], t['result']]
                for t in report['targets']]
        out += ['## Targets', '', md_table(['check', 'value', 'target', 'result'], rows), '']
    out.append(f'Total time: {meta["duration_s"]:.0f} s')
    return '\n'.join(out) + '\n'


def run_benchmark(args: argparse.Namespace) -> Dict[str, Any]:
    """Measure what ``args`` asks for (the options of ``tools/analysis/benchmark.py``), write
    ``benchmark.json`` and ``benchmark.md`` to ``args.out_dir``, print the markdown.

    Returns:
        The report (the JSON's content).
    """
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    fused = fused_adamw_supported(device)
    import mmpretrain
    from mmengine.registry import DefaultScope
    DefaultScope.get_instance('m2pt_benchmark', scope_name='mmpretrain')
    meta = dict(torch=torch.__version__, mmpretrain=mmpretrain.__version__, device=str(device),
                device_name=device_name(device), threads=torch.get_num_threads(),
                arch=args.arch if args.arch != 'tiny' else f'tiny {TINY}',
                img_size=args.img_size, patch_size=args.patch_size, batch_sizes=args.batch_sizes,
                steps=args.steps, warmup=args.warmup, min_run_time=args.min_run_time,
                timer='torch.utils.benchmark.Timer.blocked_autorange', amp=args.amp,
                settings=args.settings, parts=args.parts,
                recompute=args.recompute, judge=args.judge, fused_adamw_supported=fused,
                optimizer='fused' if fused else 'foreach', aux_std=AUX_STD, scale=SCALE,
                started=time.strftime('%Y-%m-%d %H:%M:%S'))
    log(f'device {device} ({meta["device_name"]}), {meta["threads"]} threads, '
        f'AdamW {meta["optimizer"]}, {args.amp}')
    report: Dict[str, Any] = dict(meta=meta)

    shapes = reparam_shapes(build_m2pt(args, 'all'))
    meta['num_reparam_layers'] = len(shapes)
    if 'floor' in args.parts:
        report['floor'] = run_floor(args, shapes, device, fused)
        gc.collect()
    if 'train' in args.parts:
        report['train'] = []
        for setting in args.settings:
            for batch in args.batch_sizes:
                report['train'].append(run_train(args, setting, batch, device, fused))
        params = {'plain': report['train'][0]['params']['plain']}
        for entry in report['train']:
            # the recompute model has the m2pt model's parameters
            params[f'm2pt ({entry["setting"]})'] = entry['params']['m2pt']
            if entry['setting'] == 'fix':
                params['plain (fix: frozen backbone)'] = entry['params']['plain']
        report['params'] = params
    if 'inference' in args.parts:
        report['inference'] = run_inference(args, device)
        gc.collect()
    if 'memory' in args.parts:
        report['memory'] = run_memory(args, device, fused, warm='train' in args.parts)
    report['targets'] = evaluate_targets(report, args.judge)
    meta['duration_s'] = time.perf_counter() - T0

    os.makedirs(args.out_dir, exist_ok=True)
    markdown = render_markdown(report)
    with open(osp.join(args.out_dir, 'benchmark.json'), 'w') as f:
        json.dump(report, f, indent=2)
    with open(osp.join(args.out_dir, 'benchmark.md'), 'w') as f:
        f.write(markdown)
    print('\n' + markdown)
    log(f'wrote {osp.join(args.out_dir, "benchmark.json")} and benchmark.md')
    return report
