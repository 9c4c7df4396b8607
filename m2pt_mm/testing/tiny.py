"""Tiny ViTs with real timm / MAE key names, checkpoints in those layouts, and a tiny learnable
image folder: the shapes the tests, the benchmark's quick mode and tiny configs share."""
import copy
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Dict, Sequence, Union

import torch

from m2pt_mm.pathway import CrossModalReparamLinear

#: A tiny ViT: 4 blocks of 32 dims, 2 heads, MLP 64, 32×32 images in 8×8 patches (16 tokens).
TINY = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)
TINY_IMG, TINY_PATCH = 32, 8


def timm_vit(depth: int = TINY['num_layers'], dims: int = TINY['embed_dims'], seed: int = 0,
             **kwargs: Any) -> torch.nn.Module:
    """A real timm VisionTransformer with the tiny shape (its state dict has timm's key names)."""
    import timm.models.vision_transformer as tvit
    torch.manual_seed(seed)
    args = dict(img_size=TINY_IMG, patch_size=TINY_PATCH, embed_dim=dims, depth=depth,
                num_heads=TINY['num_heads'],
                mlp_ratio=TINY['feedforward_channels'] / TINY['embed_dims'], num_classes=10)
    args.update(kwargs)
    return tvit.VisionTransformer(**args)


def timm_state_dict(seed: int = 0, **kwargs: Any) -> Dict[str, torch.Tensor]:
    """timm / M2PT-zoo aux layout: a bare timm state dict, head included."""
    return OrderedDict((k, v.clone())
                       for k, v in timm_vit(seed=seed, **kwargs).state_dict().items())


def mae_checkpoint(seed: int = 0, with_decoder: bool = False, **kwargs: Any) -> dict:
    """MAE ``mae_pretrain_vit_*.pth`` layout: {'model': encoder without head} (``_full`` adds the
    decoder, which readers must drop)."""
    sd = timm_state_dict(seed=seed, **kwargs)
    encoder = OrderedDict((k, v) for k, v in sd.items() if not k.startswith('head.'))
    if with_decoder:
        dims = encoder['cls_token'].shape[-1]
        encoder['mask_token'] = torch.zeros(1, 1, 16)
        encoder['decoder_pos_embed'] = torch.zeros(1, encoder['pos_embed'].shape[1], 16)
        encoder['decoder_embed.weight'] = torch.randn(16, dims)
        encoder['decoder_embed.bias'] = torch.zeros(16)
        encoder['decoder_blocks.0.attn.qkv.weight'] = torch.randn(48, 16)
        encoder['decoder_norm.weight'] = torch.ones(16)
        encoder['decoder_pred.weight'] = torch.randn(TINY_PATCH * TINY_PATCH * 3, 16)
    return {'model': encoder}


def set_scales(model: torch.nn.Module, value: Union[float, Callable[[str], float]]) -> None:
    """Set every Cross-Modal Scale to ``value`` (a float, or a function of the parameter name)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'cross_modal_scale' in name:
                param.fill_(value(name) if callable(value) else value)


def tiny_backbone_cfg(**overrides: Any) -> dict:
    """Config of an ``M2PTVisionTransformer`` of the tiny shape (no drop path), plus
    ``overrides``."""
    cfg = dict(type='M2PTVisionTransformer', arch=copy.deepcopy(TINY), img_size=TINY_IMG,
               patch_size=TINY_PATCH, drop_path_rate=0.)
    cfg.update(overrides)
    return cfg


def write_image_folder(root: Union[str, Path], num_per_class: Sequence[int] = (8, 4),
                       size: int = 32, seed: int = 0) -> Path:
    """A 2-class ImageNet-style folder (train/<class>/*.png, val/<class>/*.png): horizontal vs.
    vertical stripes with noise, learnable in a few iterations."""
    import numpy as np
    from PIL import Image
    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, count in zip(('train', 'val'), num_per_class):
        for label, name in enumerate(('horizontal', 'vertical')):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for n in range(count):
                stripes = (np.arange(size) // 4 % 2 * 200).astype(np.float64)
                img = stripes[:, None] if label == 0 else stripes[None, :]
                img = np.broadcast_to(img, (size, size)) + rng.normal(0, 30, (size, size))
                img = np.clip(np.stack([img] * 3, -1), 0, 255).astype(np.uint8)
                Image.fromarray(img).save(folder / f'{n}.png')
    return root


def pathway_stand_ins(model: torch.nn.Module, aux_std: float = 0.02, scale: float = 0.01) -> int:
    """Stand-ins for an aux model's W′ and a trained λ: every pathway's W′ ← N(0, ``aux_std``²)
    (the std of a ViT's linear weights) and λ ← ``scale``; returns the number of reparam linears.
    Timings do not depend on the values, but a nonzero λW′ makes the pathway change the outputs
    (and gives λ a gradient), as after loading an aux model."""
    layers = [m for m in model.modules() if isinstance(m, CrossModalReparamLinear)]
    with torch.no_grad():
        for layer in layers:
            for k in range(layer.num_aux):
                layer.aux_weight_at(k).normal_(0, aux_std)
                layer.scale_at(k).fill_(scale)
    return len(layers)


def assert_merge_is_exact(model: torch.nn.Module, outputs: Callable[[torch.nn.Module], Any],
                          plain: torch.nn.Module, rtol: float = 1.3e-6,
                          atol: float = 1e-5) -> torch.nn.Module:
    """The one "merged equals unmerged and loads strictly" check of every task type.

    Merges a copy of ``model`` (its M2PT backbone's ``switch_to_deploy``; ``model.backbone`` or
    ``model.trunk``, or ``model`` itself when it is the backbone), then checks that the copy gives
    the outputs of ``model``, holds no pathway parameter, and that its state dict loads
    ``strict=True`` into ``plain`` (the same config with ``pathway=None``), which gives them too.

    Args:
        model: The unmerged model, in eval mode.
        outputs: Runs a model on fixed inputs: a tensor or a sequence of tensors.
        plain: The plain model.
        rtol: Relative tolerance.
        atol: Absolute tolerance.

    Returns:
        The merged copy.
    """
    def as_list(value: Any) -> list:
        return [value] if isinstance(value, torch.Tensor) else list(value)

    with torch.no_grad():
        unmerged = as_list(outputs(model))
        merged_model = copy.deepcopy(model)
        backbone = getattr(merged_model, 'backbone', getattr(merged_model, 'trunk', merged_model))
        backbone.switch_to_deploy()
        assert not [k for k in merged_model.state_dict()
                    if 'aux_weight' in k or 'cross_modal_scale' in k], 'pathway left after merge'
        for a, b in zip(as_list(outputs(merged_model)), unmerged, strict=True):
            torch.testing.assert_close(a, b, rtol=rtol, atol=atol)
        plain.load_state_dict(merged_model.state_dict(), strict=True)
        plain.eval()
        for a, b in zip(as_list(outputs(plain)), unmerged, strict=True):
            torch.testing.assert_close(a, b, rtol=rtol, atol=atol)
    return merged_model
