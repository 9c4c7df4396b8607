"""Shared fixtures: tiny ViTs and checkpoints written in the real on-disk layouts."""
import pytest
import torch

from m2pt_mm.testing.tiny import (TINY, TINY_IMG, TINY_PATCH, mae_checkpoint,  # noqa: F401
                                  set_scales, timm_state_dict, timm_vit, tiny_backbone_cfg,
                                  write_image_folder)


@pytest.fixture(autouse=True)
def _seed_and_scope():
    torch.manual_seed(0)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


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
_base_ = ['{root}/configs/_base_/models/m2pt_vit-tiny-p8.py', '{root}/configs/_base_/default_runtime.py']
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
