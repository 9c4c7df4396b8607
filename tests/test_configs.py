"""Every config under configs/ parses and its model builds; full-size ones are `slow`."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

import m2pt_mm.models  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (ROOT / 'configs').rglob('*.py'))


def is_full_size(cfg: Config) -> bool:
    arch = cfg.model.backbone.get('arch')
    return isinstance(arch, str) or arch.get('embed_dims', 0) > 64


def config_params():
    params = []
    for path in CONFIGS:
        cfg = Config.fromfile(str(path))
        marks = [pytest.mark.slow] if 'model' in cfg and is_full_size(cfg) else []
        params.append(pytest.param(path, marks=marks, id=str(path.relative_to(ROOT / 'configs'))))
    return params


@pytest.mark.parametrize('path', config_params())
def test_config_parses_and_model_builds(path):
    cfg = Config.fromfile(str(path))
    if 'model' not in cfg:
        return
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        model = MODELS.build(cfg.model)  # mmdet / mmseg / mmpretrain, as the config says
    assert sum(p.numel() for p in model.parameters()) > 0
    pathways = getattr(model.backbone, 'pathway_cfgs', [])
    if pathways:
        scales = [n for n, _ in model.named_parameters() if n.endswith('cross_modal_scale')]
        assert len(scales) == model.backbone.num_layers * len(pathways[0]['layers'])


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(ROOT / 'configs')))
def test_a_config_whose_name_says_amp_enables_amp(path):
    # mmseg's own `...-amp-...` MAE config sets only the mmcv-1.x key `fp16`, which mmengine ignores
    cfg = Config.fromfile(str(path))
    wrapper = cfg.get('optim_wrapper', {}).get('type', 'OptimWrapper')
    assert ('amp' in path.stem.split('_')[-2].split('-')) == (wrapper == 'AmpOptimWrapper'), wrapper


@pytest.mark.slow
def test_vit_base_classifier_one_training_step(tmp_path):
    from mmpretrain.models import VisionTransformer
    aux = tmp_path / 'aux_vit-base-p16.pth'  # a full-size aux file in mmpretrain layout
    torch.save({'state_dict': VisionTransformer(arch='base').state_dict()}, aux)
    cfg = Config.fromfile(str(ROOT / 'configs/_base_/models/m2pt_vit-base-p16.py'))
    cfg.model.backbone.pathway.aux_checkpoint = str(aux)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    inputs = torch.randn(1, 3, 224, 224)
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(3)]
    scale = model.backbone.layers[0].attn.qkv.cross_modal_scale
    # two steps: VisionTransformerClsHead starts at zero, so the first step moves only the head
    for _ in range(2):
        optim.zero_grad()
        loss = sum(model(inputs, samples, mode='loss').values())
        loss.backward()
        optim.step()
    assert torch.isfinite(loss) and scale.item() != 0.0
