"""Peak memory per rank and step time of one M2PT classifier under DDP, FSDP1 and FSDP2.

Each configuration (strategy × pathway ``recompute``) runs in fresh processes, one per rank
(gloo on CPU, NCCL on CUDA), as mmengine's FlexibleRunner prepares a run: the strategy registered
for ``tools/train.py --strategy`` wraps an mmpretrain ``ImageClassifier`` with an M2PT backbone
(``DDPStrategy`` with the CPU-capable DDP wrapper, ``PathwayFSDPStrategy``, ``FSDP2Strategy``),
builds the AdamW wrapper after wrapping, and trains with the model's own ``train_step`` on one
fixed batch per rank.

What is measured, per rank, and reported as the largest over the ranks:

* ``params_mb`` / ``optim_mb``: the local bytes of parameters and AdamW state (a rank's shards
  under FSDP), after the first step;
* ``peak_mb``: CPU: the process's peak RSS (``VmHWM``) over the measured steps, its mark reset
  after the warm-up steps, with glibc's mmap threshold fixed so that freed tensors leave the
  RSS; CUDA: ``torch.cuda.max_memory_allocated`` over the measured steps;
* ``step_s``: the mean wall time of the measured steps (each ends at a barrier of all ranks).
"""
import gc
import json
import os
import socket
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.distributed as torch_dist

from .benchmark import _Libc, _reset_peak_rss, _rss_status

#: ``--strategy`` names, and DDP, in the order of the table.
STRATEGIES = ('ddp', 'fsdp', 'fsdp2')
#: The tiny ViT the test runs (4 blocks × 64 dims).
TINY_ARCH = dict(embed_dims=64, num_layers=4, num_heads=4, feedforward_channels=128)
NUM_CLASSES = 10
_MB = 1024.0 ** 2


def classifier_cfg(arch: Any, img_size: int, patch_size: int, recompute: bool) -> Dict[str, Any]:
    """An mmpretrain ``ImageClassifier`` with an M2PT backbone (pathway on all four linears of
    every block, W′ zero: values do not change memory or time)."""
    from mmpretrain.models import VisionTransformer
    dims = arch['embed_dims'] if isinstance(arch, dict) else \
        VisionTransformer.arch_zoo[arch]['embed_dims']
    return dict(
        type='ImageClassifier',
        backbone=dict(type='M2PTVisionTransformer', arch=arch, img_size=img_size,
                      patch_size=patch_size, drop_path_rate=0.,
                      pathway=dict(allow_zero_aux=True, recompute=recompute)),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=NUM_CLASSES, in_channels=dims,
                  loss=dict(type='CrossEntropyLoss')),
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=NUM_CLASSES,
                               mean=[127.5] * 3, std=[127.5] * 3))


def _strategy(name: str, work_dir: str, cuda: bool):
    from mmengine._strategy import DDPStrategy

    from m2pt_mm.engine.strategies import FSDP2Strategy, PathwayFSDPStrategy
    common = dict(work_dir=work_dir, env_kwargs=dict(launcher='pytorch'))
    if name == 'ddp':
        wrapper = None if cuda else dict(type='CPUCompatibleDistributedDataParallel')
        return DDPStrategy(model_wrapper=wrapper, **common)
    if name == 'fsdp':
        return PathwayFSDPStrategy(**common)
    if name == 'fsdp2':
        return FSDP2Strategy(**common)
    raise ValueError(f'strategy {name!r}: expected one of {STRATEGIES}')


def _local_bytes(tensors) -> int:
    from torch.distributed.tensor import DTensor
    total = 0
    for t in tensors:
        if isinstance(t, DTensor):
            t = t.to_local()
        if isinstance(t, torch.Tensor):
            total += t.numel() * t.element_size()
    return total


def _batch(batch_size: int, img_size: int, rank: int) -> Dict[str, Any]:
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(rank)
    images = torch.randint(0, 256, (batch_size, 3, img_size, img_size), generator=gen,
                           dtype=torch.uint8)
    labels = torch.randint(0, NUM_CLASSES, (batch_size, ), generator=gen).tolist()
    return dict(inputs=list(images), data_samples=[DataSample().set_gt_label(label)
                                                    for label in labels])


def _worker(rank: int, world_size: int, port: int, spec: Dict[str, Any], out_dir: str) -> None:
    """One rank of one configuration; writes ``rank{rank}.json`` to ``out_dir``."""
    from m2pt_mm.engine.distributed import end_distributed_process
    cuda = spec['device'] == 'cuda'
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size))
    torch.set_num_threads(spec['threads'])
    if cuda:
        torch.cuda.set_device(rank)
    torch_dist.init_process_group('nccl' if cuda else 'gloo')
    libc = _Libc()
    libc.map_large_blocks()

    from mmengine.model import is_model_wrapper
    from mmpretrain.registry import MODELS

    import m2pt_mm.engine  # noqa: F401  strategies, wrappers, patches
    import m2pt_mm.models  # noqa: F401  the backbone
    strategy = _strategy(spec['strategy'], out_dir, cuda)
    torch.manual_seed(0)
    model = MODELS.build(classifier_cfg(spec['arch'], spec['img_size'], spec['patch_size'],
                                        spec['recompute']))
    model = strategy._wrap_model(model)
    optim_wrapper = strategy.build_optim_wrapper(
        dict(optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05)), model)
    data = _batch(spec['batch_size'], spec['img_size'], rank)
    inner = model.module if is_model_wrapper(model) else model

    def step() -> float:
        start = time.perf_counter()
        model.train_step(data, optim_wrapper)
        if cuda:
            torch.cuda.synchronize()
        torch_dist.barrier()
        return time.perf_counter() - start

    for _ in range(spec['warmup']):
        step()
    libc.trim()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    elif not _reset_peak_rss():
        raise RuntimeError('peak memory on CPU needs a writable /proc/self/clear_refs (Linux)')
    times = [step() for _ in range(spec['steps'])]
    peak = torch.cuda.max_memory_allocated() if cuda else _rss_status()['VmHWM']
    state = optim_wrapper.optimizer.state
    result = dict(rank=rank, step_s=sum(times) / len(times), peak_mb=peak / _MB,
                  params_mb=_local_bytes(inner.parameters()) / _MB,
                  optim_mb=_local_bytes(v for s in state.values() for v in s.values()) / _MB,
                  params=sum(p.numel() for p in inner.parameters()) if spec['strategy'] == 'ddp'
                  else None)
    with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(result, f)
    gc.collect()
    end_distributed_process(0)  # gloo's threads abort an ordinary interpreter exit


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def measure(strategy: str, recompute: bool, *, arch: Any = None, img_size: int = 32,
            patch_size: int = 8, batch_size: int = 4, steps: int = 4, warmup: int = 2,
            nproc: int = 2, device: str = 'cpu', threads: int = 1) -> Dict[str, Any]:
    """One configuration in ``nproc`` fresh processes; the largest figure over the ranks.

    Args:
        strategy: ``'ddp'``, ``'fsdp'`` (``PathwayFSDPStrategy``) or ``'fsdp2'``.
        recompute: The pathway's ``recompute`` (rebuild W + λW′ in backward).
        arch: mmpretrain ViT arch name or dict (None: :data:`TINY_ARCH`).
        batch_size: Images per rank.
        steps: Measured steps, after ``warmup`` ones.
        device: ``'cpu'`` (gloo) or ``'cuda'`` (NCCL, one GPU per rank).
        threads: torch CPU threads per process.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f'strategy {strategy!r}: expected one of {STRATEGIES}')
    if steps < 1 or warmup < 1:
        raise ValueError(f'steps={steps}, warmup={warmup}: expected at least 1 each (the '
                         'optimiser state exists after the first step)')
    spec = dict(strategy=strategy, recompute=recompute, arch=arch or TINY_ARCH,
                img_size=img_size, patch_size=patch_size, batch_size=batch_size, steps=steps,
                warmup=warmup, device=device, threads=threads)
    import torch.multiprocessing as mp
    with tempfile.TemporaryDirectory(prefix='m2pt_sharded_memory_') as out_dir:
        mp.start_processes(_worker, args=(nproc, _free_port(), spec, out_dir), nprocs=nproc,
                           start_method='spawn')
        ranks = []
        for rank in range(nproc):
            with open(os.path.join(out_dir, f'rank{rank}.json')) as f:
                ranks.append(json.load(f))
    worst = {k: max(r[k] for r in ranks) for k in ('step_s', 'peak_mb', 'params_mb', 'optim_mb')}
    return dict(strategy=strategy, recompute=recompute, nproc=nproc, device=device,
                batch_size=batch_size, ranks=ranks, **worst)


def run(strategies: Sequence[str] = STRATEGIES, recompute: Sequence[bool] = (False, True),
        **kwargs: Any) -> List[Dict[str, Any]]:
    """:func:`measure` for every strategy × ``recompute`` value, one after the other."""
    return [measure(s, r, **kwargs) for s in strategies for r in recompute]


def saved_for_backward(arch: Any, img_size: int, patch_size: int, recompute: bool,
                       batch_size: int = 1) -> Dict[str, float]:
    """MB that autograd keeps for backward in the forward of ONE block of ``arch`` (the M2PT
    backbone cut to one block, pathway on, fp32, this process's attention kernel), split into what
    grows with the batch (activations) and the merged weights W + λW′ (none with ``recompute``);
    parameters themselves are not counted (they are state). The block × batch arithmetic of a
    full model starts from these."""
    from mmpretrain.models import VisionTransformer

    import m2pt_mm.models  # noqa: F401  the backbone
    from m2pt_mm.models.backbones.m2pt_vit import M2PTVisionTransformer
    arch = dict(arch if isinstance(arch, dict) else VisionTransformer.arch_zoo[arch],
                num_layers=1)
    torch.manual_seed(0)
    model = M2PTVisionTransformer(arch=arch, img_size=img_size, patch_size=patch_size,
                                  pathway=dict(allow_zero_aux=True, recompute=recompute))
    params = {p.data_ptr() for p in model.parameters()}
    # the merged weight may be saved as it is or transposed
    merged = {shape for m in model.modules() if hasattr(m, 'aux_weight')
              for shape in (tuple(m.weight.shape), tuple(m.weight.shape)[::-1])}
    seen: Dict[int, tuple] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params:
            seen[ptr] = (t.untyped_storage().nbytes(), tuple(t.shape) in merged)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.randn(batch_size, 3, img_size, img_size))[-1].sum()
    weights = sum(n for n, is_merged in seen.values() if is_merged)
    return dict(activations_mb=(sum(n for n, _ in seen.values()) - weights) / _MB,
                merged_weights_mb=weights / _MB)


def table(results: Sequence[Dict[str, Any]], title: Optional[str] = None) -> str:
    """The results as a markdown table (largest over the ranks)."""
    rows = ([title, ''] if title else []) + [
        '| strategy | recompute | params / rank | AdamW state / rank | peak memory / rank | '
        'step time |', '|---|---|---|---|---|---|']
    for r in results:
        rows.append(f"| {r['strategy']} | {'on' if r['recompute'] else 'off'} | "
                    f"{r['params_mb']:.1f} MB | {r['optim_mb']:.1f} MB | {r['peak_mb']:.0f} MB | "
                    f"{r['step_s']:.3f} s |")
    return '\n'.join(rows)
