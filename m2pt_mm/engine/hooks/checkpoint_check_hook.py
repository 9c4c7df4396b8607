"""Refuse a checkpoint that does not fit the model, naming what to use instead."""
from typing import Dict, List

from mmengine.hooks import Hook
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.registry import HOOKS
from torch.distributed.fsdp import FullyShardedDataParallel

from m2pt_mm.checkpoints import check_finite, check_shapes
from m2pt_mm.pathway import is_pathway_param
from m2pt_mm.utils.checkpoint_kinds import is_deploy

#: What FSDP1 puts in the names of the modules it wraps (``layers.0._fsdp_wrapped_module.attn``).
_FSDP_WRAPPED = '_fsdp_wrapped_module.'


class CheckpointMismatchError(RuntimeError):
    """A checkpoint whose keys do not fit the model (the message says which to use)."""


def _strip(keys, prefix='module.') -> List[str]:
    return [k[len(prefix):] if k.startswith(prefix) else k for k in keys]


def _fsdp1_state_keys(model: FullyShardedDataParallel) -> Dict[str, None]:
    """The state-dict keys of an FSDP1 model (``use_orig_params``), from its parameter and
    persistent buffer names. Not its ``state_dict()``: that is a collective, and called on the
    inner module it initialises the nested units (one per block) as roots, which breaks the
    load that follows."""
    keys: Dict[str, None] = {}
    for prefix, module in model.named_modules():
        persistent = [n for n, b in module.named_buffers(recurse=False)
                      if b is not None and n not in module._non_persistent_buffers_set]
        for name in [n for n, _ in module.named_parameters(recurse=False)] + persistent:
            keys[f'{prefix}.{name}'.replace(_FSDP_WRAPPED, '').lstrip('.')] = None
    return keys


def check_state_dict_fits(model_keys, ckpt_keys, source: str, strict: bool = True,
                          deploy: bool = True) -> List[str]:
    """Raise when ``ckpt_keys`` do not fit ``model_keys``; returns the mismatch report otherwise.

    A merged (deploy) checkpoint for a model with a pathway, and an unmerged training checkpoint
    for a plain model, get a message that says which config or file to use. ``deploy``: whether a
    checkpoint without pathway parameters says it is merged (its ``meta['deploy']``); otherwise it
    is named as the checkpoint of a model without pathway.
    """
    model_keys, ckpt_keys = set(model_keys), set(_strip(ckpt_keys))
    model_pathway = sorted(k for k in model_keys if is_pathway_param(k))
    ckpt_pathway = sorted(k for k in ckpt_keys if is_pathway_param(k))
    if model_pathway and not ckpt_pathway and not deploy:
        raise CheckpointMismatchError(
            f'{source} has no pathway parameters: it is the checkpoint of a model without pathway '
            f'(a plain ViT, OmniVec, ...), but this config builds them (e.g. '
            f'{model_pathway[0]!r}). Test it with the config it was trained with; to start an M2PT '
            "run from its backbone, use model.backbone.init_cfg=dict(type='Pretrained', "
            "prefix='backbone.', checkpoint=...).")
    if model_pathway and not ckpt_pathway:
        raise CheckpointMismatchError(
            f'{source} is a merged (deploy) checkpoint: it has no pathway parameters, but this '
            f'config builds them (e.g. {model_pathway[0]!r}). Test it with the plain config '
            '(model.backbone.pathway=None, as tools/merge_pathway.py writes it), or give this '
            'config the training checkpoint.')
    if ckpt_pathway and not model_pathway:
        raise CheckpointMismatchError(
            f'{source} is an unmerged M2PT training checkpoint (it has {ckpt_pathway[0]!r}), but '
            "this config's model has no pathway. Use the M2PT config it was trained with, the "
            "'<name>_deploy.pth' the MergePathwayHook wrote beside it, or merge it with "
            'tools/merge_pathway.py.')
    missing, unexpected = sorted(model_keys - ckpt_keys), sorted(ckpt_keys - model_keys)
    report = []
    absent = _whole_prefixes(missing, model_keys)
    if absent:
        # e.g. a classifier checkpoint given to a detector: name the parts, not 300 keys
        extra = _whole_prefixes(unexpected, ckpt_keys)
        report.append(f'it has no {absent} keys at all' +
                      (f' and {extra} keys the model does not have' if extra else '') +
                      ' (a checkpoint of another kind of model? To start only the backbone from '
                      "it, use model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...))")
    if missing:
        report.append(f'missing {len(missing)} keys: {missing[:6]}')
    if unexpected:
        report.append(f'unexpected {len(unexpected)} keys: {unexpected[:6]}')
    if report and strict:
        raise CheckpointMismatchError(f'{source} does not fit the model: ' + '; '.join(report))
    return report


def _whole_prefixes(keys: List[str], all_keys) -> List[str]:
    """Top-level module prefixes (``'neck.'``) whose every key of ``all_keys`` is in ``keys``."""
    tops = sorted({k.split('.')[0] for k in keys})
    chosen = set(keys)
    return [f'{t}.' for t in tops
            if all(k in chosen for k in all_keys if k.split('.')[0] == t)]


@HOOKS.register_module()
class CheckpointCheckHook(Hook):
    """Check every checkpoint the runner loads (``load_from``, ``--resume``, ``tools/test.py``)
    against the model before mmengine loads it, which it would do with ``strict=False`` and a
    warning only (a tensor of another shape is skipped: the model keeps its random values).

    Always refused: a tensor whose shape differs from the model's, NaN/Inf weights, a pathway
    mismatch, and a checkpoint none of whose keys the model has.

    Args:
        strict: Any missing or unexpected key is an error too.
    """
    priority = 'VERY_HIGH'

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model
        if is_model_wrapper(model) or isinstance(model, BaseTTAModel):  # as mmengine loads it
            model = model.module
        source = getattr(runner, '_load_from', None) or 'the checkpoint'
        if 'state_dict' not in checkpoint:
            raise CheckpointMismatchError(
                f'{source} has no "state_dict" (keys: {list(checkpoint)[:6]})')
        state_dict = dict(zip(_strip(checkpoint['state_dict']),
                              checkpoint['state_dict'].values()))
        check_finite(state_dict, str(source))
        # FSDP1 holds each rank's flat shard in the module's parameters (views of shape [0] or a
        # slice), so their shapes are not the model's; FSDP2's DTensors report the full shape
        if isinstance(runner.model, FullyShardedDataParallel):
            model_state = _fsdp1_state_keys(runner.model)
        else:
            model_state = model.state_dict()
            check_shapes(model_state, state_dict, str(source))
        deploy = is_deploy(checkpoint)
        report = check_state_dict_fits(model_state.keys(), state_dict.keys(), str(source),
                                       self.strict, deploy)
        if not any(k in model_state for k in state_dict):
            raise CheckpointMismatchError(
                f'{source} fills none of the model\'s {len(model_state)} tensors (its first keys: '
                f'{list(state_dict)[:4]}): a checkpoint of another model')
        if report:
            runner.logger.warning(f'CheckpointCheckHook: {source}: ' + '; '.join(report))
