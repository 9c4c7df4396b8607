"""Sharded data-parallel training through mmengine's FlexibleRunner.

mmengine 0.10.7 has strategies for DDP, FSDP1 (``FSDPStrategy``), DeepSpeed and ColossalAI, but
none for torch's FSDP2 (``fully_shard``), the form that also runs on a CPU device mesh with gloo.
:class:`FSDP2Strategy` is that strategy: one ``fully_shard`` unit per transformer block (W, W′ and
λ of a pathway layer are direct parameters of one module, so they always share its block's unit),
then the root; mmengine's ``prepare`` builds the optimiser after ``_wrap_model``, so the
layer-decay constructor groups the sharded parameters. Checkpoints hold the FULL state dict
(gathered on rank 0, CPU offload), so they load like a DDP run's (``tools/test.py``,
``tools/merge_pathway.py``, ``load_from``) and resume exactly.

Use it with ``tools/train.py CONFIG --strategy fsdp2`` (``tools/dist_train.sh``), or in a config::

    runner_type = 'FlexibleRunner'
    strategy = dict(type='FSDP2Strategy')

:class:`PathwayFSDPStrategy` (``--strategy fsdp``) is mmengine's own ``FSDPStrategy`` (FSDP1)
with the defaults a pathway model needs: one FSDP unit per block of the block class (an
auto-wrap policy keyed on the class, W, W′ and λ always in their block's unit), rank 0's initial
weights on every rank, a CPU device without CUDA and full state dicts (DDP's checkpoint layout).
"""
import re
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import mmengine
import torch
import torch.distributed as torch_dist
from mmengine._strategy import DDPStrategy, FSDPStrategy
from mmengine.device import get_device
from mmengine.dist import is_main_process
from mmengine.fileio import FileClient, join_path
from mmengine.optim import BaseOptimWrapper
from mmengine.registry import STRATEGIES
from mmengine.utils import get_git_hash
from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP1
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
from torch.distributed.fsdp.wrap import ModuleWrapPolicy

from m2pt_mm.pathway import CrossModalReparamLinear

from .checkpoint_writing import save_atomic

#: ``--strategy`` names (tools/train.py) → registered strategy types.
STRATEGY_NAMES = {'fsdp': 'PathwayFSDPStrategy', 'fsdp2': 'FSDP2Strategy'}

#: The block class of every transformer of this project (the M2PT backbone, the OmniVec trunk,
#: the MAE encoders and decoders): mmpretrain's ``TransformerEncoderLayer``.
DEFAULT_BLOCK_CLASSES = (TransformerEncoderLayer, )

_DTYPES = {'float32': torch.float32, 'float16': torch.float16, 'bfloat16': torch.bfloat16}


def find_blocks(model: nn.Module, block_types: Optional[Sequence[str]] = None) -> List[nn.Module]:
    """The modules :class:`FSDP2Strategy` shards one by one.

    Args:
        model: The model (not yet sharded).
        block_types: Class names of the blocks (``['TransformerEncoderLayer']``); None: every
            element with parameters of the outermost ``nn.ModuleList``s (a ViT's ``layers``).

    Raises:
        ValueError: No module matches (the message names the model's module types).
    """
    if block_types:
        blocks = [m for m in model.modules() if type(m).__name__ in set(block_types)]
    else:
        blocks, inside = [], set()
        for module in model.modules():
            if isinstance(module, nn.ModuleList) and id(module) not in inside:
                for child in module:
                    if any(True for _ in child.parameters()):
                        blocks.append(child)
                        inside.update(id(m) for m in child.modules())
    if not blocks:
        kinds = sorted({type(m).__name__ for m in model.modules()})
        what = f'of types {list(block_types)}' if block_types else 'in an nn.ModuleList'
        raise ValueError(f'FSDP2Strategy: {type(model).__name__} has no block {what} to shard; '
                         f'set strategy.block_types to some of its module types {kinds[:12]}')
    return blocks


def _mixed_precision(cfg: Optional[Dict[str, Any]]) -> MixedPrecisionPolicy:
    cfg = dict(cfg or {})
    for key in ('param_dtype', 'reduce_dtype', 'output_dtype'):
        if isinstance(cfg.get(key), str):
            if cfg[key] not in _DTYPES:
                raise ValueError(f'FSDP2Strategy mixed_precision.{key}={cfg[key]!r}: expected one '
                                 f'of {sorted(_DTYPES)}')
            cfg[key] = _DTYPES[cfg[key]]
    return MixedPrecisionPolicy(**cfg)


@STRATEGIES.register_module()
class FSDP2Strategy(DDPStrategy):
    """mmengine strategy for torch's FSDP2 (``fully_shard``) on a 1-D device mesh of all ranks.

    Each block (:func:`find_blocks`) is one sharding unit, then the root holds the rest (patch
    embedding, position table, norms, head). Parameters become ``DTensor`` shards; hooks that
    read them gather first (``ScaleLoggerHook``). ``save_checkpoint`` gathers the full model and
    optimiser state dicts on rank 0 (CPU offload) and writes them as DDP would (atomically);
    ``load_checkpoint``/``resume`` read such a full checkpoint on every rank and shard it.

    Args:
        block_types: Class names of the blocks to shard one by one (None: :func:`find_blocks`).
        reshard_after_forward: Free the gathered block weights after forward (gather again in
            backward): lower memory for one more all-gather per block.
        mixed_precision: ``MixedPrecisionPolicy`` arguments; dtypes may be names
            (``dict(param_dtype='bfloat16', reduce_dtype='float32')``).
        **kwargs: ``DDPStrategy`` arguments (``sync_bn``, and the runner's own); no
            ``model_wrapper``.
    """

    def __init__(self,
                 *,
                 block_types: Optional[Sequence[str]] = None,
                 reshard_after_forward: bool = True,
                 mixed_precision: Optional[Dict[str, Any]] = None,
                 **kwargs) -> None:
        if kwargs.get('model_wrapper') is not None:
            # fully_shard changes the model in place: there is no wrapper to configure
            raise ValueError('FSDP2Strategy takes no model_wrapper; its options are block_types, '
                             'reshard_after_forward and mixed_precision')
        super().__init__(**kwargs)
        self.block_types = list(block_types) if block_types else None
        self.reshard_after_forward = reshard_after_forward
        self.mp_policy = _mixed_precision(mixed_precision)

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        if not (torch_dist.is_available() and torch_dist.is_initialized()):
            raise RuntimeError('FSDP2Strategy needs a distributed launch: tools/dist_train.sh '
                               'CONFIG N --strategy fsdp2 (--launcher pytorch)')
        device = get_device()
        model = self.convert_model(model.to(device))
        mesh = init_device_mesh(device, (torch_dist.get_world_size(), ))
        options = dict(mesh=mesh, reshard_after_forward=self.reshard_after_forward,
                       mp_policy=self.mp_policy)
        blocks = find_blocks(model, self.block_types)
        for block in blocks:
            fully_shard(block, **options)
        fully_shard(model, **options)
        self.logger.info(f'FSDP2Strategy: {len(blocks)} blocks sharded over '
                         f'{torch_dist.get_world_size()} ranks on {device}, then the root')
        return model

    # ------------------------------------------------------------------ state dicts
    @staticmethod
    def _full_options(**kwargs) -> StateDictOptions:
        return StateDictOptions(full_state_dict=True, cpu_offload=True, **kwargs)

    def model_state_dict(self) -> dict:
        """The full (unsharded) model state dict on rank 0, an empty dict on the other ranks.
        A collective: every rank must call it."""
        return get_model_state_dict(self.model, options=self._full_options())

    def optim_state_dict(self) -> dict:
        """The full optimiser state dict (keyed by parameter names) on rank 0, empty elsewhere;
        with ``AmpOptimWrapper`` its ``loss_scaler`` too, as mmengine stores it. A collective."""
        if not isinstance(self.optim_wrapper, BaseOptimWrapper):
            raise TypeError(f'FSDP2Strategy: optim_wrapper should be a BaseOptimWrapper, got '
                            f'{type(self.optim_wrapper).__name__}')
        state = get_optimizer_state_dict(self.model, self.optim_wrapper.optimizer,
                                         options=self._full_options())
        scaler = getattr(self.optim_wrapper, 'loss_scaler', None)
        if scaler is not None and state:
            state['loss_scaler'] = scaler.state_dict()
        return state

    def load_model_state_dict(self,
                              state_dict: dict,
                              *,
                              strict: bool = False,
                              revise_keys: list = [(r'^module.', '')]) -> None:
        """Shard a full state dict into the model (every rank holds the whole ``state_dict``)."""
        for pattern, replacement in revise_keys:
            state_dict = {re.sub(pattern, replacement, k): v for k, v in state_dict.items()}
        result = set_model_state_dict(self.model, state_dict,
                                      options=StateDictOptions(full_state_dict=True,
                                                               strict=strict))
        if result.missing_keys or result.unexpected_keys:
            self.logger.warning(f'FSDP2Strategy: missing keys {result.missing_keys}, unexpected '
                                f'keys {result.unexpected_keys}')

    def load_optim_state_dict(self, state_dict: dict) -> None:
        """Load what :meth:`optim_state_dict` saved into the sharded optimiser."""
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        set_optimizer_state_dict(self.model, self.optim_wrapper.optimizer, state_dict,
                                 options=StateDictOptions(full_state_dict=True))
        if scaler_state is not None:
            self.optim_wrapper.loss_scaler.load_state_dict(scaler_state)

    def save_checkpoint(self,
                        filename: str,
                        *,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        extra_ckpt: Optional[dict] = None,
                        callback: Optional[Callable] = None) -> None:
        """Gather the full state on rank 0 (every rank takes part) and write it there, in the
        layout ``DDPStrategy`` writes. ``callback`` (the ``before_save_checkpoint`` hooks) runs on
        rank 0 only, as under DDP, so hooks see the full state dict."""
        checkpoint: Dict[str, Any] = dict(state_dict=self.model_state_dict())
        if save_optimizer and hasattr(self, 'optim_wrapper'):
            checkpoint['optimizer'] = self.optim_state_dict()
        if not is_main_process():
            return
        if save_param_scheduler and hasattr(self, 'param_schedulers'):
            checkpoint['param_schedulers'] = self.scheduler_state_dict()
        extra_ckpt = dict(extra_ckpt or {})
        extra_ckpt['meta'] = dict(extra_ckpt.get('meta') or {})
        extra_ckpt['meta'].update(seed=self.seed,
                                  time=time.strftime('%Y%m%d_%H%M%S', time.localtime()),
                                  mmengine=mmengine.__version__ + get_git_hash())
        checkpoint.update(extra_ckpt)
        if callback is not None:
            callback(checkpoint)
        save_atomic(checkpoint, filename)


def pathway_block_classes(model: nn.Module,
                          block_types: Optional[Sequence[str]] = None) -> Tuple[type, ...]:
    """The block classes :class:`PathwayFSDPStrategy` makes FSDP units of, checked against
    ``model``: some module is of them, and every pathway layer (W, W′, λ) lies inside one.

    Args:
        model: The model (not yet wrapped).
        block_types: Class names of the blocks, among ``model``'s module types; None:
            :data:`DEFAULT_BLOCK_CLASSES`.

    Raises:
        ValueError: No module of the classes, or pathway layers outside every block (each
            message names the model's module types).
    """
    kinds = {type(m).__name__: type(m) for m in model.modules()}
    if block_types:
        classes = tuple(kinds[name] for name in block_types if name in kinds)
        what = f'of types {list(block_types)}'
    else:
        classes, what = DEFAULT_BLOCK_CLASSES, f'of type {DEFAULT_BLOCK_CLASSES[0].__name__}'
    blocks = [m for m in model.modules() if classes and isinstance(m, classes)]
    # the candidates: the module types that hold pathway layers (or all, without a pathway)
    holders = sorted({type(m).__name__ for m in model.modules()
                      if m is not model and not isinstance(m, CrossModalReparamLinear)
                      and any(isinstance(c, CrossModalReparamLinear) for c in m.modules())})
    hint = ('set strategy.block_types to the block class among the module types that hold them '
            f'{holders}' if holders else
            f'set strategy.block_types to some of its module types {sorted(kinds)[:12]}')
    if not blocks:
        raise ValueError(f'FSDP: {type(model).__name__} has no block {what} to make a sharding '
                         f'unit of; {hint}')
    inside = {id(m) for block in blocks for m in block.modules()}
    outside = [name for name, m in model.named_modules()
               if isinstance(m, CrossModalReparamLinear) and id(m) not in inside]
    if outside:
        # such a layer would be sharded with the root: its W, W′ and λ apart from its block's
        raise ValueError(f'FSDP: the pathway layers {outside[:4]}{" ..." * (len(outside) > 4)} '
                         f'({len(outside)}) are in no block {what}, so they cannot share a '
                         f'sharding unit with their block; {hint}')
    return classes


def _full_state_dict_cfg(offload_to_cpu: bool) -> Dict[str, Any]:
    return dict(state_dict_type='FULL_STATE_DICT',
                state_dict_config=dict(type='FullStateDictConfig', rank0_only=True,
                                       offload_to_cpu=offload_to_cpu),
                optim_state_dict_config=dict(type='FullOptimStateDictConfig', rank0_only=True,
                                             offload_to_cpu=offload_to_cpu))


@STRATEGIES.register_module()
class PathwayFSDPStrategy(FSDPStrategy):
    """mmengine's ``FSDPStrategy`` (FSDP1, ``MMFullyShardedDataParallel``) with the defaults an
    M2PT model needs; everything else (checkpoints, optimiser, ``activation_checkpointing``) is
    mmengine's.

    * One FSDP unit per block: an auto-wrap policy keyed on the block classes
      (:func:`pathway_block_classes`, torch's ``ModuleWrapPolicy``), then the root. W, W′ and λ
      of a pathway layer are direct parameters of one module inside its block, so they share the
      block's unit; a pathway layer outside every block is an error.
    * ``sync_module_states=True``: every rank starts from rank 0's initial weights, as under DDP
      (configs with ``randomness.diff_rank_seed`` initialise each rank differently); on CPU,
      where FSDP refuses it, the strategy broadcasts them itself.
    * Without CUDA the wrapper gets ``device_id='cpu'`` (mmengine's default is the CUDA ordinal
      ``LOCAL_RANK``), and full state dicts are not offloaded (with ``offload_to_cpu=True``
      torch 2.11 segfaults cloning a CPU model's state dict).
    * ``state_dict_cfg='full'`` by default: rank 0 writes checkpoints in DDP's layout, which
      ``tools/test.py``, ``tools/merge_pathway.py`` and ``load_from`` read without the strategy
      (mmengine's default ``'local'`` writes a folder of per-rank shards).

    Args:
        block_types: Class names of the blocks (None: :data:`DEFAULT_BLOCK_CLASSES`).
        state_dict_cfg: As ``FSDPStrategy``; ``'full'`` is CPU-aware as above.
        **kwargs: ``FSDPStrategy`` arguments; ``model_wrapper`` may set any option of
            ``MMFullyShardedDataParallel`` (``mixed_precision=dict(param_dtype='bfloat16')``)
            but ``auto_wrap_policy``, which ``block_types`` replaces.
    """

    def __init__(self,
                 *,
                 block_types: Optional[Sequence[str]] = None,
                 state_dict_cfg: Union[str, dict] = 'full',
                 **kwargs) -> None:
        if (kwargs.get('model_wrapper') or {}).get('auto_wrap_policy') is not None:
            raise ValueError('PathwayFSDPStrategy makes one FSDP unit per block: set '
                             'strategy.block_types (block class names), not '
                             'model_wrapper.auto_wrap_policy')
        if state_dict_cfg == 'full':
            state_dict_cfg = _full_state_dict_cfg(offload_to_cpu=torch.cuda.is_available())
        super().__init__(state_dict_cfg=state_dict_cfg, **kwargs)
        self.block_types = list(block_types) if block_types else None

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        if not (torch_dist.is_available() and torch_dist.is_initialized()):
            raise RuntimeError('PathwayFSDPStrategy needs a distributed launch: '
                               'tools/dist_train.sh CONFIG N --strategy fsdp (--launcher pytorch)')
        classes = pathway_block_classes(model, self.block_types)
        wrapper = dict(self.model_wrapper or {})
        wrapper.setdefault('type', 'MMFullyShardedDataParallel')
        if torch.cuda.is_available():
            wrapper.setdefault('sync_module_states', True)
        else:
            wrapper.setdefault('device_id', torch.device('cpu'))
            # FSDP's sync_module_states needs CUDA tensors: broadcast rank 0's weights here
            if wrapper.pop('sync_module_states', True):
                for tensor in [*model.parameters(), *model.buffers()]:
                    torch_dist.broadcast(tensor.detach(), src=0)
        wrapper['auto_wrap_policy'] = ModuleWrapPolicy(set(classes))
        self.model_wrapper = wrapper
        model = super()._wrap_model(model)
        units = sum(1 for m in model.modules() if isinstance(m, FSDP1))
        self.logger.info(f'PathwayFSDPStrategy: {units - 1} blocks of '
                         f'{sorted(c.__name__ for c in classes)} sharded over '
                         f'{torch_dist.get_world_size()} ranks on {get_device()}, then the root')
        return model


def _save_checkpoint_keeping_step(self,
                                  out_dir: str,
                                  filename: str,
                                  file_client_args: Optional[dict] = None,
                                  save_optimizer: bool = True,
                                  save_param_scheduler: bool = True,
                                  meta: Optional[dict] = None,
                                  by_epoch: bool = True,
                                  backend_args: Optional[dict] = None) -> None:
    """``FlexibleRunner.save_checkpoint`` of mmengine 0.10.7 with ``Runner``'s rule for the step:
    an ``epoch``/``iter`` its caller puts in ``meta`` is kept (``setdefault``, not ``update``)."""
    if meta is None:
        meta = {}
    elif not isinstance(meta, dict):
        raise TypeError(f'meta should be a dict or None, but got {type(meta)}')
    meta = dict(meta)
    if by_epoch:
        meta.setdefault('epoch', self.epoch + 1)
        meta.setdefault('iter', self.iter)
    else:
        meta.setdefault('epoch', self.epoch)
        meta.setdefault('iter', self.iter + 1)
    if file_client_args is not None:
        if backend_args is not None:
            raise ValueError('"file_client_args" and "backend_args" cannot be set at the same '
                             'time.')
        filepath = FileClient.infer_client(file_client_args, out_dir).join_path(out_dir, filename)
    else:
        filepath = join_path(out_dir, filename, backend_args=backend_args)
    meta.update(cfg=self.cfg.pretty_text, experiment_name=self.experiment_name)
    if hasattr(self.train_dataloader.dataset, 'metainfo'):
        meta.update(dataset_meta=self.train_dataloader.dataset.metainfo)
    checkpoint = {'meta': meta, 'message_hub': self.message_hub.state_dict()}

    def callback(checkpoint: dict) -> None:
        self.call_hook('before_save_checkpoint', checkpoint=checkpoint)

    self.strategy.save_checkpoint(filename=filepath, save_optimizer=save_optimizer,
                                  save_param_scheduler=save_param_scheduler,
                                  extra_ckpt=checkpoint, callback=callback)


def keep_checkpoint_step() -> None:
    """Make ``FlexibleRunner.save_checkpoint`` keep the ``epoch``/``iter`` its caller passes in
    ``meta``, as ``Runner.save_checkpoint`` does (idempotent).

    Why: mmengine 0.10.7's FlexibleRunner overwrites them. After a new best checkpoint,
    ``CheckpointHook`` saves ``epoch_N.pth`` again with ``meta`` epoch N (to store the new best in
    the message hub); FlexibleRunner recorded epoch N + 1 in it, so ``--resume`` from
    ``epoch_N.pth`` skipped epoch N + 1 (found by a resumed FSDP2 run ending 1 epoch ahead).
    """
    from mmengine.runner import FlexibleRunner
    FlexibleRunner.save_checkpoint = _save_checkpoint_keeping_step


def _load_optim_state_dict_by_keyword(self, state_dict: dict) -> None:
    """``FSDPStrategy.load_optim_state_dict`` with ``FSDP.optim_state_dict_to_load``'s arguments
    named, so that both its pre-2.1 order and the current one ``(model, optim, state)`` read them
    right."""
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    optim_state_dict = FSDP.optim_state_dict_to_load(
        model=self.model, optim=self.optim_wrapper.optimizer, optim_state_dict=state_dict)
    self.optim_wrapper.load_state_dict(optim_state_dict)


def fix_fsdp_resume() -> None:
    """Make mmengine's ``FSDPStrategy`` (FSDP1) resume on torch >= 2.1 (idempotent).

    Why: mmengine 0.10.7 calls ``FSDP.optim_state_dict_to_load(state_dict, model, optimizer)``,
    torch's order before 2.1; torch 2.1 made it ``(model, optim, optim_state_dict)``, so every
    ``--resume`` under ``FSDPStrategy`` failed with ``TypeError: unhashable type: 'dict'``
    (fixed on mmengine's main branch, not in a release).
    """
    from mmengine._strategy import FSDPStrategy
    FSDPStrategy.load_optim_state_dict = _load_optim_state_dict_by_keyword


def strategy_cfg(name: str) -> Dict[str, Any]:
    """The ``strategy`` config block for a ``--strategy`` name."""
    if name not in STRATEGY_NAMES:
        raise ValueError(f'--strategy {name!r}: expected one of {sorted(STRATEGY_NAMES)}')
    return dict(type=STRATEGY_NAMES[name])
