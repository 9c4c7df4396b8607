"""The paper's *fix* setting as MAE's linear probe (configs/classification/*linear*): W and W′
frozen, λ and the head train, a BatchNorm without affine before the head. Each Table 1 fix row is
built from its own config at 2 blocks × 32 dims and takes one optimiser step."""
import copy
from pathlib import Path
from typing import Dict

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.testing import assert_close

import m2pt_mm.engine  # noqa: F401
import m2pt_mm.models  # noqa: F401
from m2pt_mm.testing.tiny import TINY, TINY_IMG, TINY_PATCH, mae_checkpoint, timm_state_dict
from tests.helpers import ROOT

ROWS = sorted((ROOT / 'configs/classification').glob('*_8xb2048-amp-linear-coslr-90e_in1k.py'))
#: one row per kind: the video and audio rows differ from the point one only in the aux file
STEPPED = [p for p in ROWS
           if p.name.startswith(('vit-base-p16_mae-pre', 'm2pt_vit-base-p16-point'))]
DEPTH, NUM_CLASSES = 2, 3


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory) -> Dict[str, str]:
    """A 2 × 32 MAE-layout target and a timm-layout auxiliary model."""
    tmp = tmp_path_factory.mktemp('probe')
    paths = dict(target=str(tmp / 'mae_target.pth'), aux=str(tmp / 'aux_timm.pth'))
    torch.save(mae_checkpoint(seed=2, depth=DEPTH), paths['target'])
    torch.save(timm_state_dict(seed=1, depth=DEPTH), paths['aux'])
    return paths


def build_probe(config: Path, checkpoints: Dict[str, str]):
    """The row's model at 2 × 32 with its checkpoints, and its optimiser wrapper."""
    cfg = Config.fromfile(str(config))
    model_cfg = copy.deepcopy(cfg.model)
    backbone = model_cfg.backbone
    backbone.update(arch=dict(TINY, num_layers=DEPTH), img_size=TINY_IMG, patch_size=TINY_PATCH)
    if backbone.get('frozen_stages', -1) > 0:  # a plain probe freezes every block (12 of ViT-B)
        assert backbone.frozen_stages == 12
        backbone.frozen_stages = DEPTH
    if backbone.init_cfg is not None:
        backbone.init_cfg.checkpoint = checkpoints['target']
    if 'pathway' in backbone:
        backbone.pathway.aux_checkpoint = checkpoints['aux']
    model_cfg.neck.input_features = TINY['embed_dims']
    model_cfg.head.update(in_channels=TINY['embed_dims'], num_classes=NUM_CLASSES)
    model = MODELS.build(model_cfg)
    model.init_weights()
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    assert optim_cfg.type == 'AmpOptimWrapper'
    optim_cfg.type = 'OptimWrapper'  # mmengine's AMP wrapper needs a GPU; the groups are the same
    return model, build_optim_wrapper(model, optim_cfg)


def batch(n: int = 6):
    inputs = torch.randn(n, 3, TINY_IMG, TINY_IMG)
    return inputs, [DataSample().set_gt_label(i % NUM_CLASSES) for i in range(n)]


def test_every_table1_fix_row_is_a_linear_probe_config():
    names = {p.name.split('_8xb2048')[0] for p in ROWS}
    assert names == {'vit-base-p16_mae-pre', 'm2pt_vit-base-p16-point_mae-pre',
                     'm2pt_vit-base-p16-video_mae-pre', 'm2pt_vit-base-p16-audio_mae-pre',
                     'vit-base-p16_scratch', 'm2pt_vit-base-p16-point_scratch'}


@pytest.mark.parametrize('config', STEPPED, ids=[p.name.split('_8xb')[0] for p in STEPPED])
def test_probe_step_trains_only_the_scales_and_the_head(config, checkpoints):
    model, optim_wrapper = build_probe(config, checkpoints)
    params = dict(model.named_parameters())
    scales = sorted(n for n in params if 'cross_modal_scale' in n)
    head = sorted(n for n in params if n.startswith('head.'))
    assert len(scales) == (4 * DEPTH if 'm2pt' in config.name else 0)
    assert sorted(n for n, p in params.items() if p.requires_grad) == sorted(scales + head)
    # the official probing script leaves λ out of the optimiser; here every λ is in it
    groups = {g['param_name']: g for g in optim_wrapper.optimizer.param_groups}
    assert sorted(groups) == sorted(scales + head)
    assert all(groups[n].get('lars_exclude') for n in scales + ['head.layers.head.bias'])
    assert not groups['head.layers.head.weight'].get('lars_exclude', False)

    before = {n: p.detach().clone() for n, p in params.items()}
    model.train()
    inputs, data_samples = batch()
    losses = model(inputs, data_samples, mode='loss')
    optim_wrapper.update_params(model.parse_losses(losses)[0])
    for name, param in params.items():
        if name in scales or name in head:
            assert not torch.equal(param, before[name]), f'{name} did not train'
        else:  # W, W′, norms, embeddings: bit for bit as loaded
            assert torch.equal(param, before[name]), f'{name} changed'


def test_batchnorm_without_affine_normalises_the_class_token_before_the_head(checkpoints):
    model, _ = build_probe(STEPPED[0], checkpoints)
    bn = model.neck.bn
    assert isinstance(bn, torch.nn.BatchNorm1d) and not bn.affine and bn.eps == 1e-6
    assert model.backbone.out_type == 'cls_token' and model.backbone.final_norm
    model.train()
    inputs, _ = batch()
    feature, = model.extract_feat(inputs)  # what the head reads: zero mean, unit variance
    assert_close(feature.mean(0), torch.zeros(TINY['embed_dims']), atol=1e-5, rtol=0)
    assert_close(feature.var(0, unbiased=False), torch.ones(TINY['embed_dims']), atol=1e-3,
                 rtol=0)
