"""The M2PT Vision Transformer: mmpretrain's ``VisionTransformer`` with Multimodal Pathways, and
the block stack it shares with OmniVec's trunk."""
import inspect
import math
import os.path as osp
import warnings
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.logging import MMLogger
from mmengine.model import ModuleList
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer
from mmpretrain.models.backbones.vit_sam import (
    add_decomposed_rel_pos,
    window_partition,
    window_unpartition,
)
from mmpretrain.models.utils import MultiheadAttention, resize_pos_embed
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from m2pt_mm.checkpoints import CheckpointError, check_architecture, read_checkpoint
from m2pt_mm.pathway import (
    MMPRETRAIN_LAYERS,
    ORDERS,
    CrossModalReparamLinear,
    attach_pathway,
    freeze_all_but_scales,
    is_pathway_param,
    load_aux_weights,
)
from m2pt_mm.registry import build_tokenizer, tokenizer_class

from ..tokenizers import HOST_POS_EMBEDS
from ..utils import PointCentres, TokenGrid, sincos_position_table

PATHWAY_DEFAULTS: Dict[str, Any] = dict(
    aux_checkpoint=None,
    allow_zero_aux=False,
    layers=('qkv', 'proj', 'fc1', 'fc2'),
    order='normal',
    scale_init=0.,
    scale_trainable=True,
    aux_trainable=True,
    reparam_bias=False,
    recompute=False)

#: The final norm (ln1) and the pooling norm (ln2) depend on out_type/final_norm, not on the
#: weights: a fine-tuning classifier adds a fresh pooling norm and drops the pretraining final
#: norm, a detection/segmentation backbone uses neither. A target checkpoint may lack them or carry
#: them unused (both logged); any other missing or unexpected key is an error.
_OPTIONAL_TARGET_KEYS = ('ln1.weight', 'ln1.bias', 'ln2.weight', 'ln2.bias')
_UNUSED_TARGET_KEYS = _OPTIONAL_TARGET_KEYS
#: Kept fresh when the target checkpoint has no class token at all (Point-MAE and VideoMAE
#: pretraining have none; Point-MAE's fine-tuning adds a new one, with its own position).
_CLS_KEYS = ('cls_token', 'cls_pos')
#: Block parameters that MAE-style checkpoints lack and that start from their fresh value when the
#: target is read: ViTDet's relative position tables (zeros, as ViTDet loads MAE weights) and the
#: layer scales (their ``layer_scale_init_value``, as mmseg's MAE loads MAE weights).
_FRESH_BLOCK_KEYS = ('.attn.rel_pos_h', '.attn.rel_pos_w', '.attn.gamma1.weight',
                     '.ffn.gamma2.weight')


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
            raise KeyError(f'pathway[{k}].layers: unknown layer alias(es) {bad or layers}; '
                           f'expected a non-empty subset of {list(MMPRETRAIN_LAYERS)}')
        cfg['layers'] = layers
        if cfg['order'] not in ORDERS:
            raise ValueError(f"pathway[{k}].order must be one of {ORDERS}, got {cfg['order']!r}")
        # a string from --cfg-options (scale_init=abc) would otherwise fail deep in torch
        if isinstance(cfg['scale_init'], bool) or not isinstance(cfg['scale_init'], (int, float)):
            raise TypeError(f"pathway[{k}].scale_init must be a number (λ₀), got "
                            f"{cfg['scale_init']!r}")
        flags = ('allow_zero_aux', 'scale_trainable', 'aux_trainable', 'reparam_bias', 'recompute')
        bad = [f'{name}={cfg[name]!r}' for name in flags if not isinstance(cfg[name], bool)]
        if bad:
            raise TypeError(f'pathway[{k}]: {", ".join(bad)}; expected True or False')
        out.append(cfg)
    return out


def run_block_with_key_padding(layer: nn.Module, x: Tensor, key_padding_mask: Tensor) -> Tensor:
    """mmpretrain's ``TransformerEncoderLayer.forward`` with padded keys left out of attention.

    The block's own submodules are called (``qkv``/``proj`` with their pathways, dropouts, drop
    path, layer scale), so only the attention weights differ from ``layer(x)``: a padded key gets
    ``-inf`` before the softmax, for every query.

    Args:
        layer: A ``TransformerEncoderLayer`` whose ``attn`` is mmpretrain's ``MultiheadAttention``.
        x: Tokens ``[B, N, D]``.
        key_padding_mask: ``[B, N]`` bool, True where a token is padding.
    """
    attn = layer.attn
    if not isinstance(attn, MultiheadAttention) or attn.v_shortcut:
        raise ValueError(f'a key-padding mask needs plain global attention, got '
                         f'{type(attn).__name__} (window attention and v_shortcut are image-only)')
    B, N, _ = x.shape
    if key_padding_mask.shape != (B, N):
        raise ValueError(f'key_padding_mask must be [B, N] = {[B, N]}, got '
                         f'{list(key_padding_mask.shape)}')
    empty = key_padding_mask.all(dim=1)
    if bool(empty.any()):
        # every key masked: the softmax has nothing to normalise over
        raise ValueError(f'samples {empty.nonzero().flatten().tolist()} have no tokens left '
                         f'after the key-padding mask (all padding, e.g. text [PAD])')
    h = layer.ln1(x)
    q, k, v = attn.qkv(h).reshape(B, N, 3, attn.num_heads,
                                  attn.head_dims).permute(2, 0, 3, 1, 4).unbind(0)
    # additive, not bool: mmpretrain's pure-Python fallback mishandles bool masks
    bias = q.new_zeros(B, 1, 1, N).masked_fill(key_padding_mask[:, None, None, :], float('-inf'))
    h = attn.scaled_dot_product_attention(q, k, v, attn_mask=bias,
                                          dropout_p=attn.attn_drop if attn.training else 0.)
    h = h.transpose(1, 2).reshape(B, N, attn.embed_dims)
    x = x + attn.out_drop(attn.gamma1(attn.proj_drop(attn.proj(h))))
    return layer.ffn(layer.ln2(x), identity=x)


def _given_out_indices(kwargs: Dict[str, Any]) -> List[int]:
    """The ``out_indices`` as the config gave them (mmpretrain's default is the last block)."""
    indices = kwargs.get('out_indices', -1)
    return [indices] if isinstance(indices, int) else list(indices)


class WindowRelPosAttention(nn.Module):
    """mmpretrain's ``MultiheadAttention`` over windows of the token grid and/or with ViTDet's
    decomposed relative position bias (Li et al. 2022, from MViTv2).

    It takes over the submodules of a built ``MultiheadAttention`` (``qkv``, ``proj``, dropouts,
    drop path, layer scale ``gamma1``), so the state-dict names stay those of the plain block
    (MAE checkpoints load), the pathway wraps the same ``qkv``/``proj`` and merging is unchanged.
    The new parameters are ``rel_pos_h``/``rel_pos_w`` (ViTDet's names), zero at the start.

    Windows are cut from the ``ln1``-normalised grid and padded with zeros to a multiple of the
    window size, as ViTDet does; the padded tokens take part as keys (as in ViTDet) and are
    cropped off afterwards. The window pieces are mmpretrain's (``ViTSAM``'s) helpers.

    Args:
        attn: The block's ``MultiheadAttention`` as mmpretrain built it.
        window_size: Side of the square windows; 0 for global attention.
        use_rel_pos: Add the decomposed relative position bias.
        grid: The token grid the backbone is built for: the size of a global block's tables
            (other grids interpolate them, as ViTDet).
    """

    def __init__(self, attn: MultiheadAttention, window_size: int, use_rel_pos: bool,
                 grid: Tuple[int, int]) -> None:
        super().__init__()
        self.num_heads = attn.num_heads
        self.head_dims = attn.head_dims
        self.embed_dims = attn.embed_dims
        self.attn_drop = attn.attn_drop
        self.scaled_dot_product_attention = attn.scaled_dot_product_attention
        self.qkv, self.proj = attn.qkv, attn.proj
        self.proj_drop, self.out_drop, self.gamma1 = attn.proj_drop, attn.out_drop, attn.gamma1
        self.window_size = window_size
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            size = (window_size, window_size) if window_size else tuple(grid)
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * size[0] - 1, self.head_dims))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * size[1] - 1, self.head_dims))

    def forward(self, x: Tensor, grid: Optional[Tuple[int, int]] = None,
                num_extra_tokens: int = 0) -> Tensor:
        """``x``: ``[B, num_extra_tokens + h·w, D]`` tokens of the ``(h, w)`` ``grid``."""
        if grid is None:
            # a block called as mmpretrain's layer(x), e.g. by masked MAE pretraining
            raise ValueError('window attention / relative positions need the token grid: they '
                             'run in M2PTVisionTransformer.forward only (not on the visible '
                             'tokens of MAE pretraining nor in the OmniVec trunk)')
        B, N, D = x.shape
        size = tuple(grid)
        if self.window_size:
            # extra tokens are refused at build time: windows are cut from the grid alone
            x, pad_hw = window_partition(x.view(B, *size, D), self.window_size)
            size = (self.window_size, self.window_size)
            x = x.flatten(1, 2)
        Bw, n, _ = x.shape
        q, k, v = self.qkv(x).reshape(Bw, n, 3, self.num_heads,
                                      self.head_dims).permute(2, 0, 3, 1, 4).unbind(0)
        bias = self._rel_pos_bias(q, size, num_extra_tokens) if self.use_rel_pos else None
        x = self.scaled_dot_product_attention(q, k, v, attn_mask=bias,
                                              dropout_p=self.attn_drop if self.training else 0.)
        x = x.transpose(1, 2).reshape(Bw, n, D)
        if self.window_size:
            x = window_unpartition(x.view(Bw, *size, D), self.window_size, pad_hw,
                                   tuple(grid)).reshape(B, N, D)
        return self.out_drop(self.gamma1(self.proj_drop(self.proj(x))))

    def _rel_pos_bias(self, q: Tensor, size: Tuple[int, int], num_extra_tokens: int) -> Tensor:
        """The additive attention bias ``[B, heads, n, n]``; extra tokens (a class token) get
        none, as in MViTv2."""
        Bw, heads, n, d = q.shape
        m = size[0] * size[1]
        grid_q = q[:, :, num_extra_tokens:].reshape(Bw * heads, m, d)
        bias = add_decomposed_rel_pos(q.new_zeros(Bw * heads, m, m), grid_q, self.rel_pos_h,
                                      self.rel_pos_w, size, size)
        bias = F.pad(bias, (num_extra_tokens, 0, num_extra_tokens, 0))
        return bias.view(Bw, heads, n, n)


def tokens_to_featmap(x: Tensor, grid: TokenGrid, num_extra_tokens: int) -> Tensor:
    """Block output ``[B, E + N, D]`` → a feature map of the ``N`` grid tokens: ``[B, D, h, w]``
    (image, audio), ``[B, D, t, h, w]`` (video), ``[B, D, L]`` (text) or ``[B, D, G]`` (point
    groups, ``grid`` their :class:`PointCentres`)."""
    tokens = x[:, num_extra_tokens:]
    if isinstance(grid, PointCentres):
        return tokens.transpose(1, 2)
    return tokens.reshape(x.shape[0], *grid, -1).movedim(-1, 1)


class ViTBlockStack:
    """The blocks of the M2PT ViT, one definition for ``M2PTVisionTransformer`` and OmniVec's
    trunk (a mixin of an ``nn.Module``, so that the state-dict names stay mmpretrain's ViT's).

    It owns ``layers`` (mmpretrain's ``TransformerEncoderLayer``, one per block), the final norm
    ``ln1``, the Multimodal Pathways on the block linears (configured, attached, read from the
    aux checkpoints, merged) and the layer depth for layer-wise learning-rate decay. A host puts
    its stem in front of it: the backbone its tokenizer and positions, OmniVec its encoders and
    projections. Hosts set ``num_extra_tokens`` (the class token).
    """

    layers: ModuleList
    arch_settings: Dict[str, Any]
    embed_dims: int
    num_layers: int
    num_extra_tokens: int
    final_norm: bool
    pathway_cfgs: List[Dict[str, Any]]
    fix_weights: bool
    deploy: bool

    def _set_arch(self, arch: Union[str, dict]) -> None:
        """``arch_settings``, ``embed_dims`` and ``num_layers`` from a preset name of mmpretrain's
        ViT (``'base'``, ...) or a dict with its four keys, as mmpretrain's ViT reads them."""
        if isinstance(arch, str):
            if arch.lower() not in VisionTransformer.arch_zoo:
                raise ValueError(f'arch {arch!r} is not one of mmpretrain\'s ViT presets '
                                 f'{sorted(VisionTransformer.arch_zoo)}')
            self.arch_settings = VisionTransformer.arch_zoo[arch.lower()]
        else:
            essential = {'embed_dims', 'num_layers', 'num_heads', 'feedforward_channels'}
            if not isinstance(arch, dict) or not essential <= set(arch):
                raise ValueError(f'a custom arch needs a dict with the keys {sorted(essential)}, '
                                 f'got {arch!r}')
            self.arch_settings = arch
        self.embed_dims = self.arch_settings['embed_dims']
        self.num_layers = self.arch_settings['num_layers']

    def _build_blocks(self,
                      drop_rate: float = 0.,
                      drop_path_rate: float = 0.,
                      qkv_bias: bool = True,
                      norm_cfg: Optional[dict] = None,
                      final_norm: bool = True,
                      layer_scale_init_value: float = 0.,
                      layer_cfgs: Union[dict, Sequence[dict]] = ()) -> None:
        """``layers`` and ``ln1`` as mmpretrain's ``VisionTransformer`` builds them for the same
        arguments (it builds the backbone's itself), after :meth:`_set_arch`."""
        norm_cfg = norm_cfg or dict(type='LN', eps=1e-6)
        layer_cfgs = [dict(layer_cfgs or {})] * self.num_layers if isinstance(
            layer_cfgs, dict) or not layer_cfgs else list(layer_cfgs)
        dpr = np.linspace(0, drop_path_rate, self.num_layers)
        # mmengine's ModuleList: BaseModule.init_weights reaches the blocks' own init through it
        self.layers = ModuleList(TransformerEncoderLayer(**{
            **dict(embed_dims=self.embed_dims, num_heads=self.arch_settings['num_heads'],
                   feedforward_channels=self.arch_settings['feedforward_channels'],
                   layer_scale_init_value=layer_scale_init_value, drop_rate=drop_rate,
                   drop_path_rate=dpr[i], qkv_bias=qkv_bias, norm_cfg=norm_cfg),
            **layer_cfgs[i]}) for i in range(self.num_layers))
        self.final_norm = final_norm
        if final_norm:
            self.ln1 = build_norm_layer(norm_cfg, self.embed_dims)[1]

    def _configure_pathways(self, pathway: Union[None, dict, Sequence[dict]], fix_weights: bool,
                            deploy: bool, name: str,
                            advice: str = 'To evaluate a merged checkpoint set fix_weights=False'
                            ) -> None:
        """Check and store the pathway options (:meth:`_attach_pathways` builds them).

        Args:
            pathway: The ``pathway`` option (None, a dict, or a list of dicts).
            fix_weights: The paper's *fix* setting.
            deploy: Build the merged form; ``pathway`` is then ignored (warned).
            name: The class named in the warning.
            advice: What the error of ``fix_weights`` without a pathway ends with.
        """
        self.deploy = deploy
        self.fix_weights = fix_weights
        self.pathway_cfgs = [] if deploy else _pathway_configs(pathway)
        if fix_weights and not self.pathway_cfgs:
            # only Cross-Modal Scales stay trainable: without a pathway, nothing in the blocks
            raise ValueError(
                f'fix_weights=True needs a pathway (it freezes all but the Cross-Modal Scales; '
                f'with {"deploy=True" if deploy else "pathway=None"} that is the whole backbone). '
                f'{advice}')
        if deploy and pathway is not None:
            warnings.warn(f'{name}(deploy=True) builds the merged plain ViT and '
                          'ignores pathway (no aux_checkpoint is read, no W′ or λ is built); load '
                          'a merged (*_deploy.pth) checkpoint into it', UserWarning)

    def _attach_pathways(self) -> None:
        """Wrap the chosen block linears: ``W + Σₖ λₖ W′ₖ``, W′ zero until read."""
        for cfg in self.pathway_cfgs:
            attach_pathway(self, None, blocks='layers', layers=self._layer_map(cfg),
                           order=cfg['order'], scale_init=cfg['scale_init'],
                           scale_trainable=cfg['scale_trainable'],
                           aux_trainable=cfg['aux_trainable'], reparam_bias=cfg['reparam_bias'],
                           recompute=cfg['recompute'])

    @staticmethod
    def _layer_map(cfg: Dict[str, Any]) -> Dict[str, str]:
        return {alias: MMPRETRAIN_LAYERS[alias] for alias in cfg['layers']}

    def _run_block(self, layer: nn.Module, x: Tensor, grid: Optional[TokenGrid],
                   key_padding_mask: Optional[Tensor] = None) -> Tensor:
        if key_padding_mask is not None:
            return run_block_with_key_padding(layer, x, key_padding_mask)
        if not isinstance(layer.attn, WindowRelPosAttention):
            return layer(x)
        # mmpretrain's TransformerEncoderLayer.forward, with the token grid for the attention
        x = x + layer.attn(layer.ln1(x), grid, self.num_extra_tokens)
        return layer.ffn(layer.ln2(x), identity=x)

    def _blocks(self, x: Tensor, grid: Optional[TokenGrid] = None,
                key_padding_mask: Optional[Tensor] = None,
                pos: Optional[Tensor] = None) -> Iterator[Tuple[int, Tensor]]:
        """Run the blocks: ``(i, output of block i)``, the last through ``ln1`` with
        ``final_norm``.

        Args:
            x: Tokens ``[B, E + N, D]``, positions added.
            grid: Their grid (window attention and relative positions need it).
            key_padding_mask: ``[B, E + N]`` True at tokens no token attends to.
            pos: Re-added before every block but the first (Point-MAE), if given.
        """
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if pos is not None and i > 0:
                x = x + pos
            x = self._run_block(layer, x, grid, key_padding_mask)
            if i == last and self.final_norm:
                x = self.ln1(x)
            yield i, x

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """mmpretrain ViT's layer depth (``num_layers + 2`` depths): the stem (``cls_token``,
        ``pos_embed``, ``cls_pos``, ``patch_embed``) 0, block ``i`` ``i + 1`` (its pathway
        parameters too), everything else and what lies outside ``prefix`` the last."""
        num_layers = self.num_layers + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers  # a head after the backbone
        name = param_name[len(prefix):]
        if name in ('cls_token', 'pos_embed', 'cls_pos') or name.startswith('patch_embed'):
            return 0, num_layers
        if name.startswith('layers'):
            return int(name.split('.')[1]) + 1, num_layers
        return num_layers - 1, num_layers

    def _init_pathway_weights(self) -> None:
        """Read every aux checkpoint; the *fix* setting freezes all but the scales after."""
        self.load_aux_checkpoints()
        if self.fix_weights:
            freeze_all_but_scales(self)

    def load_aux_checkpoints(self) -> None:
        """Read each ``pathway[k].aux_checkpoint`` into branch ``k`` (block linears only).

        Raises:
            ValueError: two pathways read one file, or a W′ equals the target's W in every
                pathway layer (the target given as its own auxiliary model: W + λW′ is then
                (1 + λ)W, a rescaled ViT, not a second model).
        """
        logger = MMLogger.get_current_instance()
        seen: Dict[str, int] = {}
        for k, cfg in enumerate(self.pathway_cfgs):
            path = cfg['aux_checkpoint']
            if path is None:
                continue
            if osp.realpath(path) in seen:
                raise ValueError(f'M2PT pathway[{k}] reads {path}, the aux checkpoint of '
                                 f'pathway[{seen[osp.realpath(path)]}] too: one model attached '
                                 'twice adds parameters, not a second modality')
            seen[osp.realpath(path)] = k
        for k, cfg in enumerate(self.pathway_cfgs):
            path = cfg['aux_checkpoint']
            if path is None:
                if not cfg['allow_zero_aux']:
                    # W′ = 0 trains a plain ViT with extra parameters: never silently
                    raise ValueError(
                        f'M2PT pathway[{k}] has no aux_checkpoint, so W′ would be all zeros. Set '
                        f'model.backbone.pathway.aux_checkpoint to the auxiliary model, or set '
                        f'allow_zero_aux=True when trained weights are loaded afterwards '
                        f'(tools/train.py sets it itself for --resume and load_from)')
                logger.info(f'M2PT pathway[{k}] has no aux_checkpoint: W′ is zero until the '
                            'checkpoint to resume or load from is read (allow_zero_aux=True)')
                continue
            ckpt = read_checkpoint(path)
            check_architecture(ckpt, self.num_layers, self.embed_dims, f'pathway[{k}] aux')
            layers = self._layer_map(cfg)
            aux = ckpt.block_linears({alias: layers[alias] for alias in cfg['layers']})
            load_aux_weights(self, aux, index=k, blocks='layers', layers=layers,
                             order=cfg['order'], aux_name=f'aux checkpoint {path}')
            branch = [m for m in self.modules()
                      if isinstance(m, CrossModalReparamLinear) and m.num_aux > k]
            if branch and all(torch.equal(m.weight, m.aux_weight_at(k)) for m in branch):
                raise ValueError(f'M2PT pathway[{k}]: every W′ read from {path} equals the '
                                 "target's W: the target was given as its own auxiliary model "
                                 '(W + λW′ would be a rescaled W); give another modality\'s '
                                 'model')
            logger.info(f'M2PT pathway[{k}] aux: {ckpt.summary()}, order={cfg["order"]}, '
                        f'layers={cfg["layers"]}')

    def switch_to_deploy(self) -> None:
        """Merge every pathway into plain linears (idempotent): the result is a plain ViT."""
        if self.deploy:
            return
        for module in self.modules():
            if isinstance(module, CrossModalReparamLinear):
                module.switch_to_deploy()
        self.pathway_cfgs = []
        self.deploy = True


@MODELS.register_module()
class M2PTVisionTransformer(ViTBlockStack, VisionTransformer):
    """Vision Transformer whose block linears can carry Multimodal Pathways.

    Everything of mmpretrain's ``VisionTransformer`` holds (``arch`` presets, ``out_type``,
    ``out_indices``, position-embedding resizing, ``get_layer_depth``, state-dict names), plus:

    * a ``tokenizer`` slot: the module at ``patch_embed`` that turns the input into tokens
      (image, audio, video, point cloud, text), used through its contract (``BaseTokenizer``):
      ``host_pos_embed`` picks the ``pos_embed`` table, learned or fixed sin-cos (frozen,
      AudioMAE), or none when the tokenizer adds its own positions (video sin-cos, point MLP,
      text table), the class token's position then being the learned ``cls_pos`` (Point-MAE's
      name); its ``mask_tokens`` may drop tokens in training after the positions are added
      (AudioMAE) and its ``key_padding_mask`` keeps padding out of attention (text);
    * ``pathway``: every chosen linear computes ``x(W + Σₖ λₖ W′ₖ)ᵀ + b`` with ``W′ₖ`` from
      auxiliary checkpoint ``k`` (read in :meth:`init_weights`, any supported layout);
    * :meth:`switch_to_deploy` merges the pathways, after which the state dict loads with
      ``strict=True`` into a stock ``VisionTransformer`` of the same arch.

    Args:
        arch: As mmpretrain's ``VisionTransformer`` (``'base'``, ``'small'``, or a dict).
        tokenizer: ``dict(type=...)`` of a registered tokenizer. Tokenizers get ``in_channels``,
            ``img_size``, ``patch_size`` and ``bias`` from this backbone unless set, where
            their constructor takes them.
        out_type: mmpretrain's ``'raw'``, ``'cls_token'``, ``'featmap'`` (``[B, D, h, w]``
            images/audio, ``[B, D, t, h, w]`` video, ``[B, D, G]`` point groups) and
            ``'avg_featmap'`` (VideoMAE's and AudioMAE's mean pooling + ``ln2``, i.e. fc_norm),
            plus ``'cls_max'``: ``concat(class token, max over the other tokens)`` ``[B, 2D]``,
            Point-MAE's classification feature.
        norm_outs: Pass every output of ``out_indices`` through the final norm ``ln1``, not
            only the last block's (Point-MAE's part segmentation reads blocks 3, 7, 11 so).
        pathway: None for a plain ViT, or a dict (a list of dicts for several auxiliary models)
            with keys ``aux_checkpoint`` (path, read in :meth:`init_weights`), ``allow_zero_aux``
            (without an ``aux_checkpoint``, :meth:`init_weights` is an error unless this is True:
            W′ stays zero for weights loaded afterwards), ``layers`` (subset of ``qkv``,
            ``proj``, ``fc1``, ``fc2``), ``order``
            (``'normal'``: block i ↔ i, ``'reversed'``: i ↔ N-1-i), ``scale_init`` (λ₀, default 0),
            ``scale_trainable``, ``aux_trainable``, ``reparam_bias``, ``recompute`` (rebuild
            ``W + λW′`` in backward: less memory, a little more time).
        fix_weights: The paper's *fix* setting: every backbone parameter is frozen except the
            Cross-Modal Scales (the head, outside the backbone, still trains). Needs a pathway
            (a plain ViT freezes with ``frozen_stages=num_layers``).
        deploy: Build the merged (plain) form directly; ``pathway`` is then ignored (warned).
        window_size: ViTDet's window attention: blocks not in ``global_attn_indexes`` attend
            within ``window_size`` × ``window_size`` windows of the token grid (padded to a
            multiple, as ViTDet). 0 (default): every block is global. Images only, no class token.
        global_attn_indexes: The blocks that keep global attention (ViTDet-B: 2, 5, 8, 11).
        use_rel_pos: ViTDet's decomposed relative position bias in every block (new
            ``rel_pos_h``/``rel_pos_w`` parameters, zero at the start; a target checkpoint
            without them keeps the zeros). With these options on, the merged model loads
            strictly into a plain (``pathway=None``) one with the same options.
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` initialises the target from any
            supported layout (MAE, timm, mmpretrain, ...), checked key by key.
        **kwargs: Passed on to ``VisionTransformer``.
    """

    OUT_TYPES = VisionTransformer.OUT_TYPES | {'cls_max'}

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 tokenizer: Optional[dict] = None,
                 out_type: str = 'cls_token',
                 norm_outs: bool = False,
                 pathway: Union[None, dict, Sequence[dict]] = None,
                 fix_weights: bool = False,
                 deploy: bool = False,
                 window_size: int = 0,
                 global_attn_indexes: Sequence[int] = (),
                 use_rel_pos: bool = False,
                 init_cfg: Optional[dict] = None,
                 **kwargs: Any) -> None:
        super().__init__(arch=arch, img_size=img_size, patch_size=patch_size,
                         in_channels=in_channels, out_type=out_type, init_cfg=init_cfg, **kwargs)
        if out_type == 'cls_max' and self.cls_token is None:
            raise ValueError('out_type="cls_max" needs a class token (with_cls_token=True)')
        if norm_outs and not self.final_norm:
            raise ValueError('norm_outs=True applies the final norm ln1 to every output: it '
                             'needs final_norm=True')
        self.norm_outs = norm_outs
        bad = [i for i in self.out_indices if not 0 <= i < self.num_layers]
        if bad:
            # mmpretrain accepts index == num_layers and then silently returns fewer maps
            raise ValueError(f'out_indices {list(_given_out_indices(kwargs))} out of range for '
                             f'{self.num_layers} blocks (valid: -{self.num_layers} … '
                             f'{self.num_layers - 1})')
        self._configure_pathways(pathway, fix_weights, deploy, 'M2PTVisionTransformer',
                                 f'To freeze a plain ViT use frozen_stages={self.num_layers}; to '
                                 'evaluate a merged checkpoint set fix_weights=False')
        self._build_tokenizer(tokenizer or dict(type='ImageTokenizer'), img_size, patch_size,
                              in_channels, kwargs.get('pre_norm', False))
        # before the pathway: it wraps the linears the new attention took over
        self._build_window_rel_pos(window_size, global_attn_indexes, use_rel_pos)
        self._attach_pathways()
        if self.frozen_stages > 0:
            self._freeze_stages()
        if fix_weights:
            freeze_all_but_scales(self)

    def _build_window_rel_pos(self, window_size: int, global_attn_indexes: Sequence[int],
                              use_rel_pos: bool) -> None:
        """Swap each block's attention for :class:`WindowRelPosAttention` where ViTDet's
        window attention or relative position bias is asked for."""
        self.window_size = window_size
        self.global_attn_indexes = tuple(global_attn_indexes)
        self.use_rel_pos = use_rel_pos
        if not window_size and not use_rel_pos:
            if self.global_attn_indexes:
                raise ValueError('global_attn_indexes needs window_size > 0 (window attention)')
            return
        if not isinstance(window_size, int) or window_size < 0:
            raise ValueError(f'window_size must be an int >= 0, got {window_size!r}')
        bad = [i for i in self.global_attn_indexes if not 0 <= i < self.num_layers]
        if bad:
            raise ValueError(f'global_attn_indexes {bad} out of range for {self.num_layers} '
                             f'blocks (valid: 0 … {self.num_layers - 1})')
        if len(self.patch_resolution) != 2 or self.pos_every_block:
            raise ValueError('window_size/use_rel_pos need an image-like (h, w) token grid; '
                             f'the tokenizer {type(self.patch_embed).__name__} gives '
                             f'{tuple(self.patch_resolution)}')
        if window_size and self.num_extra_tokens:
            raise ValueError('window attention cuts the token grid into windows: it needs '
                             'with_cls_token=False (ViTDet drops the class token)')
        for i, layer in enumerate(self.layers):
            window = 0 if i in self.global_attn_indexes else window_size
            layer.attn = WindowRelPosAttention(layer.attn, window, use_rel_pos,
                                               tuple(self.patch_resolution))

    def _build_tokenizer(self, cfg: dict, img_size, patch_size: int, in_channels: int,
                         pre_norm: bool) -> None:
        params = inspect.signature(tokenizer_class(cfg.get('type')).__init__).parameters
        image_defaults = dict(img_size=img_size, patch_size=patch_size, in_channels=in_channels,
                              bias=not pre_norm)
        defaults = dict(embed_dims=self.embed_dims,
                        **{k: v for k, v in image_defaults.items() if k in params})
        self.patch_embed = build_tokenizer(cfg, **defaults)
        host = self.patch_embed.host_pos_embed
        if host not in HOST_POS_EMBEDS:
            raise ValueError(f'{type(self.patch_embed).__name__}.host_pos_embed must be one of '
                             f'{HOST_POS_EMBEDS}, got {host!r}')
        # Point-MAE adds the position embedding before every block, ViT once before the first
        self.pos_every_block = bool(self.patch_embed.pos_every_block)
        self.cls_pos = None
        grid = tuple(self.patch_embed.init_out_size)
        if host == 'none':
            self.patch_resolution = grid
            self.pos_embed = None
            if self.cls_token is not None:
                self.cls_pos = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        elif grid != tuple(self.patch_resolution):
            # a tokenizer with another token grid needs a position embedding of its size
            self.patch_resolution = grid
            num_tokens = math.prod(grid) + self.num_extra_tokens
            self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens, self.embed_dims))
        if host == 'sincos':  # AudioMAE fine-tunes with the fixed table frozen
            self.pos_embed.requires_grad = False

    def _prepare_pos_embed(self, state_dict: dict, prefix: str, *args: Any, **kwargs: Any) -> None:
        """Resize a loaded ``pos_embed`` to this model's grid (a load_state_dict pre-hook).

        mmpretrain's hook assumes the checkpoint's grid is square; the tokenizer's
        ``grid_for_length`` tells which grid a table of that length was made for (square for
        images, time × the fixed mel axis for audio: 64 × 8).
        """
        name = prefix + 'pos_embed'
        if self.pos_embed is None or name not in state_dict:
            return  # positions come from the tokenizer: a stray table is an unexpected key
        grid_for_length = self.patch_embed.grid_for_length
        length = state_dict[name].shape[1]
        if not self.with_cls_token and (length == self.pos_embed.shape[1] + 1 or (
                grid_for_length(length) is None and grid_for_length(length - 1) is not None)):
            # the class token's row: mmpretrain drops it on equal grids, and a table made with
            # one (MAE's 1 + 14²) for a model without one on another grid (ViTDet at 1024²)
            state_dict[name] = state_dict[name][:, 1:]
        if state_dict[name].shape == self.pos_embed.shape:
            return
        source = grid_for_length(state_dict[name].shape[1] - self.num_extra_tokens)
        if source is None:
            raise ValueError(f'a pos_embed of {state_dict[name].shape[1]} rows fits no token grid '
                             f'of {type(self.patch_embed).__name__} with {self.num_extra_tokens} '
                             f'extra tokens (its grid: {tuple(self.patch_resolution)})')
        MMLogger.get_current_instance().info(
            f'Resize the pos_embed from a {"×".join(map(str, source))} to a '
            f'{"×".join(map(str, self.patch_resolution))} grid.')
        state_dict[name] = resize_pos_embed(state_dict[name], source, self.patch_resolution,
                                            self.interpolate_mode, self.num_extra_tokens)

    def _freeze_stages(self) -> None:
        super()._freeze_stages()
        # mmpretrain's __init__ freezes before the tokenizer (and cls_pos) exist
        if getattr(self, 'cls_pos', None) is not None:
            self.cls_pos.requires_grad = False

    # ------------------------------------------------------------------ forward
    def _position_embedding(self, grid: TokenGrid) -> Tensor:
        """Position embedding of the extra tokens and the tokens of ``grid``: ``[1 or B, N, D]``."""
        if self.pos_embed is not None:
            return resize_pos_embed(self.pos_embed, self.patch_resolution, grid,
                                    mode=self.interpolate_mode,
                                    num_extra_tokens=self.num_extra_tokens)
        pos = self.patch_embed.position_embedding(grid)
        if self.cls_pos is not None:
            pos = torch.cat((self.cls_pos.expand(pos.shape[0], -1, -1), pos), dim=1)
        return pos

    def forward_with_grid(self, x: Tensor) -> Tuple[Tuple[Tensor, ...], TokenGrid]:
        """The outputs of :meth:`forward` and the tokenizer's grid: ``(h, w)``, ``(t, h, w)``,
        or for point clouds :class:`PointCentres` (the group centres ``[B, G, 3]``), which a
        part-segmentation head needs to propagate the group features back to the points."""
        B = x.shape[0]
        key_padding_mask = self._key_padding_mask(x)
        x, grid = self.patch_embed(x)
        if self.cls_token is not None:
            x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        pos = self._position_embedding(grid)
        x = self.drop_after_pos(x + pos)
        x, grid = self.patch_embed.mask_tokens(x, grid, self.num_extra_tokens)
        x = self.pre_norm(x)

        outs = []
        last = len(self.layers) - 1
        for i, x in self._blocks(x, grid, key_padding_mask, pos if self.pos_every_block else None):
            if i in self.out_indices:
                out = self.ln1(x) if self.norm_outs and i != last else x
                outs.append(self._format_output(out, grid))
        return tuple(outs), grid

    def _key_padding_mask(self, x: Tensor) -> Optional[Tensor]:
        """``[B, E + N]`` True at the tokenizer's padding (text ``[PAD]``; never at the class
        token), so that padding is not attended to; None where every token is real."""
        mask = self.patch_embed.key_padding_mask(x)
        if mask is None:
            return None
        return F.pad(mask, (self.num_extra_tokens, 0), value=False)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Tokenize, run the blocks; one output per ``out_indices`` entry, as ``out_type``."""
        return self.forward_with_grid(x)[0]

    def _format_output(self, x: Tensor, grid: TokenGrid) -> Tensor:
        if self.out_type == 'cls_max':
            return torch.cat((x[:, 0], x[:, 1:].max(dim=1)[0]), dim=-1)
        if self.out_type == 'featmap':
            return tokens_to_featmap(x, grid, self.num_extra_tokens)
        return super()._format_output(x, grid)

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
                self._init_positions()
            finally:
                self.init_cfg = init_cfg
            self.load_target_checkpoint(init_cfg['checkpoint'])
        else:
            super().init_weights()
            self._init_positions()
        self._init_pathway_weights()

    def _init_positions(self) -> None:
        """Initialise what mmpretrain's init does not: Point-MAE's class-token position and a
        tokenizer's fixed sin-cos table (AudioMAE)."""
        if self.cls_pos is not None:
            trunc_normal_(self.cls_pos, std=.02)  # as Point-MAE
        if self.pos_embed is not None and self.patch_embed.host_pos_embed == 'sincos':
            self.pos_embed.data.copy_(sincos_position_table(
                self.patch_resolution, self.embed_dims, cls_token=self.num_extra_tokens == 1))

    def load_target_checkpoint(self, path: str) -> None:
        """Load the target weights W (and tokenizer, norms) from a checkpoint of any layout."""
        ckpt = read_checkpoint(path)
        check_architecture(ckpt, self.num_layers, self.embed_dims, 'target')
        own = self.state_dict()
        needed = [k for k in own if not is_pathway_param(k)]
        missing = [k for k in needed if k not in ckpt.state_dict]
        unexpected = [k for k in ckpt.state_dict if k not in own]
        optional = _OPTIONAL_TARGET_KEYS + (_CLS_KEYS if 'cls_token' not in ckpt.state_dict else ())
        # a backbone without class token (ViTDet) ignores the pretraining's
        unused = _UNUSED_TARGET_KEYS + (() if self.with_cls_token else ('cls_token', ))
        bad_missing = [k for k in missing
                       if k not in optional and not k.endswith(_FRESH_BLOCK_KEYS)]
        bad_unexpected = [k for k in unexpected if k not in unused]
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
                        '(pooling norm of fine-tuning vs. final norm of pretraining; a class '
                        'token the pretraining did not have or this backbone does not use; '
                        'relative position tables (zero) and layer scales (their init value) '
                        'the pretraining did not have)')

    def train(self, mode: bool = True) -> 'M2PTVisionTransformer':
        # mmpretrain's BaseBackbone.train returns None; nn.Module's contract is to return self
        super().train(mode)
        return self
