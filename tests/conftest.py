"""Shared fixtures: tiny ViTs and checkpoints written in the real on-disk layouts."""
import copy
from collections import OrderedDict
from typing import Dict

import pytest
import torch

#: A tiny ViT: 4 blocks of 32 dims, 2 heads, MLP 64, 32×32 images in 8×8 patches (16 tokens).
TINY = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)
TINY_IMG, TINY_PATCH = 32, 8


@pytest.fixture(autouse=True)
def _seed_and_scope():
    torch.manual_seed(0)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


def timm_vit(depth: int = TINY['num_layers'], dims: int = TINY['embed_dims'], seed: int = 0,
             **kwargs) -> torch.nn.Module:
    """A real timm VisionTransformer with the tiny shape (its state dict has timm's key names)."""
    import timm.models.vision_transformer as tvit
    torch.manual_seed(seed)
    args = dict(img_size=TINY_IMG, patch_size=TINY_PATCH, embed_dim=dims, depth=depth,
                num_heads=TINY['num_heads'], mlp_ratio=TINY['feedforward_channels'] / TINY['embed_dims'],
                num_classes=10)
    args.update(kwargs)
    return tvit.VisionTransformer(**args)


def timm_state_dict(seed: int = 0, **kwargs) -> Dict[str, torch.Tensor]:
    """timm / M2PT-zoo aux layout: a bare timm state dict, head included."""
    return OrderedDict((k, v.clone()) for k, v in timm_vit(seed=seed, **kwargs).state_dict().items())


def mae_checkpoint(seed: int = 0, with_decoder: bool = False, **kwargs) -> dict:
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


def tiny_backbone_cfg(**overrides) -> dict:
    cfg = dict(type='M2PTVisionTransformer', arch=copy.deepcopy(TINY), img_size=TINY_IMG,
               patch_size=TINY_PATCH, drop_path_rate=0.)
    cfg.update(overrides)
    return cfg


@pytest.fixture
def aux_timm_file(tmp_path):
    """A timm-layout aux checkpoint on disk (seed 1) and its state dict."""
    sd = timm_state_dict(seed=1)
    path = tmp_path / 'aux_timm.pth'
    torch.save(sd, path)
    return str(path), sd


@pytest.fixture
def target_mae_file(tmp_path):
    """An MAE-layout target checkpoint on disk (seed 2, with decoder) and its encoder dict."""
    ckpt = mae_checkpoint(seed=2, with_decoder=True)
    path = tmp_path / 'mae_pretrain_vit_tiny.pth'
    torch.save(ckpt, path)
    return str(path), ckpt['model']
