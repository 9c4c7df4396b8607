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


def set_scales(model: torch.nn.Module, value) -> None:
    """Set every Cross-Modal Scale to ``value`` (a float, or a function of the parameter name)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'cross_modal_scale' in name:
                param.fill_(value(name) if callable(value) else value)


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


ROOT = __import__('pathlib').Path(__file__).resolve().parents[1]

TINY_CLS_CONFIG = """
_base_ = ['{root}/configs/_base_/models/m2pt_vit-tiny-p8.py', '{root}/configs/_base_/mmpretrain_runtime.py']
model = dict(backbone=dict(pathway={pathway}), head=dict(num_classes=2))
data_preprocessor = dict(num_classes=2, mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(type='CustomDataset', data_root='{data}', data_prefix='train',
                                     pipeline=pipeline))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(type='CustomDataset', data_root='{data}', data_prefix='val',
                                   pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
                     constructor='PathwayLayerDecayOptimWrapperConstructor',
                     paramwise_cfg=dict(layer_decay_rate=0.65,
                                        custom_keys={{'.cls_token': dict(decay_mult=0.0)}}))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=3, convert_to_iter_based=True)]
train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(save_best='accuracy/top1'))
custom_hooks = [dict(type='MergePathwayHook'), dict(type='ScaleLoggerHook', interval=1),
                dict(type='CheckpointCheckHook', strict=True)]
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
randomness = dict(seed=0, deterministic=True)
"""


def write_image_folder(root, num_per_class=(8, 4), size=32, seed=0):
    """A 2-class ImageNet-style folder (train/<class>/*.png, val/<class>/*.png): horizontal vs.
    vertical stripes with noise, learnable in a few iterations."""
    import numpy as np
    from PIL import Image
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


@pytest.fixture
def tiny_cls_config(tmp_path):
    """Write the stripes dataset and a tiny M2PT classifier config; returns a function
    ``make(pathway='aux'|None, **format) -> config path``."""
    data = write_image_folder(tmp_path / 'data')
    aux = tmp_path / 'aux_timm_64.pth'  # matches configs/_base_/models/m2pt_vit-tiny-p8.py
    torch.save(timm_state_dict(seed=1, dims=64), aux)

    def make(pathway='aux', name='tiny_cls.py', extra=''):
        pw = 'None' if pathway is None else f"dict(aux_checkpoint='{aux}')"
        path = tmp_path / name
        path.write_text(TINY_CLS_CONFIG.format(root=ROOT, data=data, pathway=pw) + extra)
        return str(path)
    return make
