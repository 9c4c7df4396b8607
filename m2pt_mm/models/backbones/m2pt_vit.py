"""The M2PT Vision Transformer: mmpretrain's ``VisionTransformer`` with Multimodal Pathways."""
import inspect
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.logging import MMLogger
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.registry import MODELS
from torch import nn

from m2pt_mm.checkpoints import CheckpointError, check_architecture, read_checkpoint
from m2pt_mm.pathway import (MMPRETRAIN_LAYERS, ORDERS, attach_pathway, freeze_all_but_scales,
                             is_pathway_param, load_aux_weights, merge_pathways)
from m2pt_mm.registry import build_tokenizer, tokenizer_class

PATHWAY_DEFAULTS: Dict[str, Any] = dict(
    aux_checkpoint=None,
    layers=('qkv', 'proj', 'fc1', 'fc2'),
    order='normal',
    scale_init=0.,
    scale_trainable=True,
    aux_trainable=True,
    reparam_bias=False,
    recompute=False)

#: Keys a target checkpoint may lack (a fresh pooling norm when fine-tuning with average pooling,
#: as MAE does) or carry without use (the pre-pooling final norm): anything else is an error.
_OPTIONAL_TARGET_KEYS = ('ln2.weight', 'ln2.bias')
_UNUSED_TARGET_KEYS = ('ln1.weight', 'ln1.bias')


def _pathway_configs(pathway: Union[None, dict, Sequence[dict]]) -> List[Dict[str, Any]]:
    """Validate ``pathway`` (None, a dict or a list of dicts) and fill in the defaults."""
    if pathway is None:
        return []
    configs = [pathway] if isinstance(pathway, dict) else list(pathway)
    out = []
    for k, cfg in enumerate(configs):
        if not isinstance(cfg, dict):
            raise TypeError(f'pathway[{k}] must be a dict, got {type(cfg).__name__}')
        unknown = set(cfg) - set(PATHWAY_DEFAULTS)
        if unknown:
            raise KeyError(f'pathway[{k}] has unknown keys {sorted(unknown)}; '
                           f'valid keys: {sorted(PATHWAY_DEFAULTS)}')
        cfg = {**PATHWAY_DEFAULTS, **cfg}
        layers = [cfg['layers']] if isinstance(cfg['layers'], str) else list(cfg['layers'])
        bad = [name for name in layers if name not in MMPRETRAIN_LAYERS]
        if bad or not layers:
            raise KeyError(f'pathway[{k}].layers: unknown layer alias(es) {bad or layers}; expected '
                           f'a non-empty subset of {list(MMPRETRAIN_LAYERS)}')
        cfg['layers'] = layers
        if cfg['order'] not in ORDERS:
            raise ValueError(f"pathway[{k}].order must be one of {ORDERS}, got {cfg['order']!r}")
        out.append(cfg)
    return out


@MODELS.register_module()
class M2PTVisionTransformer(VisionTransformer):
    """Vision Transformer whose block linears can carry Multimodal Pathways.

    Everything of mmpretrain's ``VisionTransformer`` holds (``arch`` presets, ``out_type``,
    ``out_indices``, position-embedding resizing, ``get_layer_depth``, state-dict names), plus:

    * a ``tokenizer`` slot: the module at ``patch_embed`` that turns the input into tokens;
    * ``pathway``: every chosen linear computes ``x(W + Σₖ λₖ W′ₖ)ᵀ + b`` with ``W′ₖ`` from auxiliary
      checkpoint ``k`` (read in :meth:`init_weights`, any supported layout);
    * :meth:`switch_to_deploy` merges the pathways, after which the state dict loads with
      ``strict=True`` into a stock ``VisionTransformer`` of the same arch.

    Args:
        arch: As mmpretrain's ``VisionTransformer`` (``'base'``, ``'small'``, or a dict).
        tokenizer: ``dict(type=...)`` of a registered tokenizer. Image tokenizers get
            ``in_channels``, ``img_size`` and ``patch_size`` from this backbone unless set.
        pathway: None for a plain ViT, or a dict (a list of dicts for several auxiliary models)
            with keys ``aux_checkpoint`` (path; None leaves W′ at zero, e.g. to load a trained
            checkpoint), ``layers`` (subset of ``qkv``, ``proj``, ``fc1``, ``fc2``), ``order``
            (``'normal'``: block i ↔ i, ``'reversed'``: i ↔ N-1-i), ``scale_init`` (λ₀, default 0),
            ``scale_trainable``, ``aux_trainable``, ``reparam_bias``, ``recompute`` (rebuild
            ``W + λW′`` in backward: less memory, a little more time).
        fix_weights: The paper's *fix* setting: every backbone parameter is frozen except the
            Cross-Modal Scales (the head, outside the backbone, still trains).
        deploy: Build the merged (plain) form directly; ``pathway`` is then ignored.
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` initialises the target from any
            supported layout (MAE, timm, mmpretrain, ...), checked key by key.
        **kwargs: Passed on to ``VisionTransformer``.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 tokenizer: Optional[dict] = None,
                 pathway: Union[None, dict, Sequence[dict]] = None,
                 fix_weights: bool = False,
                 deploy: bool = False,
                 init_cfg: Optional[dict] = None,
                 **kwargs: Any) -> None:
        super().__init__(arch=arch, img_size=img_size, patch_size=patch_size,
                         in_channels=in_channels, init_cfg=init_cfg, **kwargs)
        self.deploy = deploy
        self.fix_weights = fix_weights
        self.pathway_cfgs = [] if deploy else _pathway_configs(pathway)
        self._build_tokenizer(tokenizer or dict(type='ImageTokenizer'), img_size, patch_size,
                              in_channels, kwargs.get('pre_norm', False))
        for cfg in self.pathway_cfgs:
            attach_pathway(self, None, blocks='layers', layers=self._layer_map(cfg),
                           order=cfg['order'], scale_init=cfg['scale_init'],
                           scale_trainable=cfg['scale_trainable'],
                           aux_trainable=cfg['aux_trainable'], reparam_bias=cfg['reparam_bias'],
                           recompute=cfg['recompute'])
        if self.frozen_stages > 0:
            self._freeze_stages()
        if fix_weights:
            freeze_all_but_scales(self)

    @staticmethod
    def _layer_map(cfg: Dict[str, Any]) -> Dict[str, str]:
        return {alias: MMPRETRAIN_LAYERS[alias] for alias in cfg['layers']}

    def _build_tokenizer(self, cfg: dict, img_size, patch_size: int, in_channels: int,
                         pre_norm: bool) -> None:
        params = inspect.signature(tokenizer_class(cfg.get('type')).__init__).parameters
        image_defaults = dict(img_size=img_size, patch_size=patch_size, in_channels=in_channels,
                              bias=not pre_norm)
        defaults = dict(embed_dims=self.embed_dims,
                        **{k: v for k, v in image_defaults.items() if k in params})
        self.patch_embed = build_tokenizer(cfg, **defaults)
        grid = tuple(self.patch_embed.init_out_size)
        if grid != tuple(self.patch_resolution):
            # a tokenizer with another token grid needs a position embedding of its size
            self.patch_resolution = grid
            num_tokens = grid[0] * grid[1] + self.num_extra_tokens
            self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens, self.embed_dims))

    # ------------------------------------------------------------------ initialisation
    def init_weights(self) -> None:
        """Initialise (from scratch, or the target from ``init_cfg``'s checkpoint), then read
        every auxiliary checkpoint into its pathway branch."""
        init_cfg = self.init_cfg if isinstance(self.init_cfg, dict) else None
        if init_cfg is not None and init_cfg.get('type') == 'Pretrained':
            # mmengine's PretrainedInit loads with strict=False and knows only mmpretrain names;
            # the target is read here instead, converted and checked key by key.
            self.init_cfg = None
            try:
                super().init_weights()
            finally:
                self.init_cfg = init_cfg
            self.load_target_checkpoint(init_cfg['checkpoint'])
        else:
            super().init_weights()
        self.load_aux_checkpoints()
        if self.fix_weights:
            freeze_all_but_scales(self)

    def load_target_checkpoint(self, path: str) -> None:
        """Load the target weights W (and tokenizer, norms) from a checkpoint of any layout."""
        ckpt = read_checkpoint(path)
        check_architecture(ckpt, self.num_layers, self.embed_dims, 'target')
        own = self.state_dict()
        needed = [k for k in own if not is_pathway_param(k)]
        missing = [k for k in needed if k not in ckpt.state_dict]
        unexpected = [k for k in ckpt.state_dict if k not in own]
        bad_missing = [k for k in missing if k not in _OPTIONAL_TARGET_KEYS]
        bad_unexpected = [k for k in unexpected if k not in _UNUSED_TARGET_KEYS]
        if bad_missing or bad_unexpected:
            raise CheckpointError(
                f'target checkpoint {path} ({ckpt.format}) does not fit this backbone: '
                f'missing {bad_missing[:8]}, unexpected {bad_unexpected[:8]} (backbone key names)')
        state = {k: v for k, v in ckpt.state_dict.items() if k in own}
        state.update({k: own[k] for k in own if k not in state})
        self.load_state_dict(state, strict=True)
        logger = MMLogger.get_current_instance()
        logger.info(f'M2PT target: {ckpt.summary()}')
        if missing or unexpected:
            logger.info(f'M2PT target: kept the fresh {missing} and ignored {unexpected} '
                        '(pooling norm of fine-tuning vs. final norm of pretraining)')

    def load_aux_checkpoints(self) -> None:
        """Read each ``pathway[k].aux_checkpoint`` into branch ``k`` (block linears only)."""
        logger = MMLogger.get_current_instance()
        for k, cfg in enumerate(self.pathway_cfgs):
            path = cfg['aux_checkpoint']
            if path is None:
                logger.warning(f'M2PT pathway[{k}] has no aux_checkpoint: W′ stays zero until a '
                               'trained checkpoint is loaded')
                continue
            ckpt = read_checkpoint(path)
            check_architecture(ckpt, self.num_layers, self.embed_dims, f'pathway[{k}] aux')
            layers = self._layer_map(cfg)
            aux = ckpt.block_linears({alias: layers[alias] for alias in cfg['layers']})
            load_aux_weights(self, aux, index=k, blocks='layers', layers=layers,
                             order=cfg['order'], aux_name=f'aux checkpoint {path}')
            logger.info(f'M2PT pathway[{k}] aux: {ckpt.summary()}, order={cfg["order"]}, '
                        f'layers={cfg["layers"]}')

    def train(self, mode: bool = True) -> 'M2PTVisionTransformer':
        # mmpretrain's BaseBackbone.train returns None; nn.Module's contract is to return self
        super().train(mode)
        return self

    # ------------------------------------------------------------------ deploy
    def switch_to_deploy(self) -> None:
        """Merge every pathway into plain linears (idempotent): the result is a plain ViT."""
        if self.deploy:
            return
        merge_pathways(self)
        self.pathway_cfgs = []
        self.deploy = True
