"""The ViT-B Mask R-CNN and UperNet M2PT configs build and take one training step on CPU at their
real input sizes (1024² LSJ canvas, 512² crop). Batch 1 for Mask R-CNN; 2 for UperNet, whose
pyramid-pooling BatchNorm (SyncBN reverted to BN on one CPU process) needs more than one value per
channel at pool scale 1. The time and peak memory of such a step: tools/analysis/full_size_step.py
(docs/benchmarks.md)."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

import m2pt_mm.engine  # noqa: F401
import m2pt_mm.models  # noqa: F401
from m2pt_mm.analysis.full_size_step import build_model, cpu_config, synthetic_batch
from tests.helpers import ROOT

DET = ROOT / ('configs/detection/'
              'mask-rcnn_m2pt-vit-base-p16-point_mae-pre_16xb4-amp-lsj-100e_coco.py')
SEG = ROOT / ('configs/segmentation/'
              'upernet_m2pt-vit-base-p16-point_mae-pre_8xb2-amp-160k_ade20k-512x512.py')


@pytest.mark.slow
@pytest.mark.parametrize('path,size,batch', [(DET, (1024, 1024), 1), (SEG, (512, 512), 2)],
                         ids=['mask-rcnn-vit-b', 'upernet-vit-b'])
def test_vit_base_m2pt_config_one_training_step(path, size, batch, tmp_path):
    from mmpretrain.models import VisionTransformer
    aux = tmp_path / 'aux_vit-base-p16.pth'  # a full-size aux in mmpretrain layout
    torch.save({'state_dict': VisionTransformer(arch='base').state_dict()}, aux)
    cfg = cpu_config(Config.fromfile(str(path)))  # AMP needs a GPU
    cfg.model.backbone.pathway.aux_checkpoint = str(aux)
    cfg.model.backbone.init_cfg = None  # no MAE file here: W from scratch, the step is the same
    model = build_model(cfg)  # SyncBN reverted: it needs a process group
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model.init_weights()
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
        data = synthetic_batch(cfg, model, batch)
        model.train()
        log = model.train_step(data, optim)
    assert [tuple(x.shape) for x in data['inputs']] == [(3, *size)] * batch
    assert torch.isfinite(log['loss'])
    assert model.backbone.layers[0].attn.qkv.cross_modal_scale.item() != 0.  # λ left 0
