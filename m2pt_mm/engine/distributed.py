"""Distributed runs without a GPU: torchrun + gloo on CPU, and how a distributed process ends.

mmengine assumes CUDA for the ``pytorch`` launcher: ``init_dist`` calls ``torch.cuda.set_device``
and the Runner wraps the model in DDP with ``device_ids=[LOCAL_RANK]``, both of which fail on a
CPU-only machine. This is the one place that works around it: the process group is started here
with gloo (the Runner then skips ``init_dist``), and the model wrapper drops ``device_ids`` for a
CPU model. On a GPU machine nothing changes.
"""
import logging
import os
import sys

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS
from torch import nn


@MODEL_WRAPPERS.register_module()
class CPUCompatibleDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's DDP wrapper that also accepts a CPU model (``device_ids`` must then be None)."""

    def __init__(self, module: nn.Module, device_ids=None, **kwargs) -> None:
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        super().__init__(module=module, device_ids=None if on_cpu else device_ids, **kwargs)


def setup_cpu_distributed(cfg: Config) -> bool:
    """With the ``pytorch`` launcher and no CUDA, start a gloo process group (from torchrun's
    environment) and make the Runner use :class:`CPUCompatibleDistributedDataParallel`.

    Returns:
        Whether the CPU setup was applied.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher pytorch needs torchrun (tools/dist_train.sh, '
                           f'tools/dist_test.sh): environment variables {missing} are not set')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        broadcast_buffers=False, find_unused_parameters=cfg.get('find_unused_parameters', False))
    if wrapper.get('type', 'MMDistributedDataParallel') == 'MMDistributedDataParallel':
        wrapper['type'] = 'CPUCompatibleDistributedDataParallel'
    cfg.model_wrapper_cfg = wrapper
    return True


def end_distributed_process(code: int) -> None:
    """End a process of a distributed run (a process group is initialized) with exit status
    ``code``, skipping the interpreter's finalization; return at once otherwise.

    Why: a gloo worker thread destroys each collective's work object after the rank that waited
    on it has moved on; the work's tensors have Python objects, so the destructor takes the GIL.
    When that happens while the main thread is in ``Py_FinalizeEx``, Python ends the worker thread
    with ``pthread_exit`` inside a ``noexcept`` C++ destructor, and the process aborts
    (``terminate called without an active exception``, SIGABRT) after the metrics were printed
    (core dump: ``ProcessGroupGloo::runLoop`` → ``~AsyncBroadcastWork`` →
    ``gil_scoped_acquire`` → ``PyThread_exit_thread``). Destroying the process group first cannot
    help: its destructor joins those threads while this thread holds the GIL they wait for.
    Logging and the standard streams are flushed first (the visualiser is closed by mmengine's
    ``LoggerHook.after_run``); on success every rank first meets the others at a barrier.
    """
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    if code == 0:
        torch_dist.barrier()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
