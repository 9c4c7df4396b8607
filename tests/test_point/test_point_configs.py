"""Every configs/point config parses and builds its model; the tiny ones by default, the ViT-B
ones as slow tests; one ViT-B part-segmentation training step on CPU (slow; its time and peak
memory: tools/analysis/full_size_step.py)."""
import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import m2pt_mm.datasets  # noqa: F401
import m2pt_mm.evaluation  # noqa: F401
import m2pt_mm.models  # noqa: F401
from tests.helpers import ROOT

CONFIGS = sorted(p for p in (ROOT / 'configs' / 'point').glob('*.py'))
TINY = [p for p in CONFIGS if '-tiny-' in p.name]
FULL = [p for p in CONFIGS if '-tiny-' not in p.name]


def test_the_table_2_configs_exist():
    names = {p.name for p in CONFIGS}
    for data in ('shapenetpart-2048', 'partnet-chair-3-2048', 'modelnet40-1024'):
        for aux in ('image', 'video', 'audio'):
            assert any(n.startswith('m2pt_') and f'-{aux}_point-mae-pre_' in n and data in n
                       for n in names), (aux, data)
        assert any(n.startswith('vit-base') and 'point-mae-pre' in n and data in n for n in names)
    # the paper's from-scratch rows (ShapeNetPart): baseline and M2PT-Video
    assert any(n.startswith('vit-base') and '_scratch_' in n and 'shapenetpart' in n for n in names)
    assert any(n.startswith('m2pt_') and '-video_scratch_' in n and 'shapenetpart' in n
               for n in names)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_parses_with_its_recipe(path):
    cfg = Config.fromfile(str(path))
    backbone = cfg.model.backbone
    assert backbone.type == 'M2PTVisionTransformer' and backbone.tokenizer.type == 'PointTokenizer'
    assert backbone.qkv_bias is False and backbone.norm_cfg.eps == 1e-5  # Point-MAE's blocks
    m2pt = path.name.startswith('m2pt_')
    assert (backbone.get('pathway') is not None) == m2pt
    if m2pt:  # the one-line delta: everything else is the backbone's default (paper Table 5)
        assert list(backbone.pathway) == ['aux_checkpoint']
    assert ('point-mae-pre' in path.name) == (backbone.get('init_cfg') is not None)
    if '-tiny-' not in path.name:
        assert backbone.arch.embed_dims == 768 and backbone.arch.num_layers == 12
        assert cfg.train_cfg.max_epochs == 300
        seg = cfg.model.type == 'PointPartSegmentor'
        assert cfg.optim_wrapper.optimizer.lr == (2e-4 if seg else 5e-4)
        assert cfg.train_dataloader.batch_size == (16 if seg else 32)
    assert any(h.type == 'MergePathwayHook' for h in cfg.custom_hooks)


def _build(path):
    cfg = Config.fromfile(str(path))
    return MODELS.build(cfg.model), cfg  # init_weights (which reads checkpoints) is not called


@pytest.mark.parametrize('path', TINY, ids=lambda p: p.name)
def test_tiny_config_builds(path):
    model, _ = _build(path)
    assert model.backbone.embed_dims == 64
    assert model.backbone.layers[0].attn.qkv.aux_weight.shape == (192, 64)
    (pathway, ) = model.backbone.pathway_cfgs
    assert pathway['layers'] == ['qkv', 'proj', 'fc1', 'fc2'] and pathway['order'] == 'normal'
    assert pathway['scale_init'] == 0. and pathway['scale_trainable'] and pathway['aux_trainable']


@pytest.mark.slow
@pytest.mark.parametrize('path', FULL, ids=lambda p: p.name)
def test_full_config_builds(path):
    model, cfg = _build(path)
    assert model.backbone.embed_dims == 768 and len(model.backbone.layers) == 12
    assert model.backbone.layers[0].attn.qkv.bias is None


@pytest.mark.slow
def test_vit_b_part_seg_one_training_step_on_cpu():
    from mmengine.optim import build_optim_wrapper

    from m2pt_mm.analysis.full_size_step import synthetic_batch
    path = ROOT / ('configs/point/'
                   'm2pt_vit-base-g128-video_scratch_1xb16-coslr-300e_shapenetpart-2048.py')
    cfg = Config.fromfile(str(path))
    # W′ stays zero; shapes are what matter here
    cfg.model.backbone.pathway = dict(aux_checkpoint=None, allow_zero_aux=True)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    data = synthetic_batch(cfg, model, 2)  # 2048 points, a category and 50 part labels
    assert [tuple(x.shape) for x in data['inputs']] == [(2048, 3)] * 2
    log = model.train_step(data, optim)
    assert torch.isfinite(log['loss'])
