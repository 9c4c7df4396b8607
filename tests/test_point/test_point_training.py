"""A tiny point part-segmentation run through tools/train.py with an aux of another modality (a
timm image ViT of the same depth and width): ShapeNetPart mIoU evaluated, deploy checkpoint
written and loadable into the plain (pathway=None) model."""
import re
import subprocess
import sys

import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import m2pt_mm.engine  # noqa: F401  safe-globals allow-list for reading training checkpoints
import m2pt_mm.models  # noqa: F401
from tests.conftest import ROOT, timm_state_dict

CONFIG = ROOT / 'configs/point/m2pt_vit-tiny-g16-spectrogram_scratch_1xb4-20e_tiny-shapenetpart-256.py'


def test_tiny_part_seg_trains_evaluates_and_writes_a_deploy_checkpoint(tmp_path):
    from m2pt_mm.testing.modalities import write_shapenetpart
    data = write_shapenetpart(tmp_path / 'shapenetpart')['train']['data_root']
    aux = tmp_path / 'aux_image_timm.pth'
    torch.save(timm_state_dict(seed=1, dims=64), aux)  # an image ViT: 4 blocks × 64, MLP 128
    work = tmp_path / 'work'
    epochs = 3
    options = [f'model.backbone.pathway.aux_checkpoint={aux}',
               f'train_dataloader.dataset.data_root={data}',
               f'val_dataloader.dataset.data_root={data}',
               f'test_dataloader.dataset.data_root={data}',
               f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
               f'default_hooks.checkpoint.interval={epochs}']
    result = subprocess.run([sys.executable, 'tools/train.py', str(CONFIG), '--work-dir', str(work),
                             '--cfg-options', *options], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    metrics = re.search(r'part-seg/class_mIoU: ([\d.]+)\s+part-seg/instance_mIoU: ([\d.]+)', out)
    assert metrics, out[-2000:]
    assert all(0 <= float(v) <= 100 for v in metrics.groups())
    assert 'M2PT pathway[0] aux: ' in out  # the image checkpoint was read into W′

    train_sd = torch.load(work / f'epoch_{epochs}.pth', weights_only=True)['state_dict']
    deploy_sd = torch.load(work / f'epoch_{epochs}_deploy.pth', weights_only=True)['state_dict']
    assert any(k.endswith('aux_weight') for k in train_sd)
    assert not any('aux_weight' in k or 'cross_modal_scale' in k for k in deploy_sd)
    key = 'backbone.layers.1.attn.qkv'
    assert train_sd[f'{key}.cross_modal_scale'].abs().item() > 0  # λ trained
    torch.testing.assert_close(
        deploy_sd[f'{key}.weight'],
        train_sd[f'{key}.weight'] + train_sd[f'{key}.cross_modal_scale'] * train_sd[f'{key}.aux_weight'])
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.backbone.pathway = None
    MODELS.build(cfg.model).load_state_dict(deploy_sd, strict=True)
