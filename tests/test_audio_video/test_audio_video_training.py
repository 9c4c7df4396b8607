"""One tiny training run per target modality (audio, video) through tools/train.py, with an
auxiliary checkpoint of another modality (an image ViT in timm layout), evaluated with the real
metric and writing the merged deploy checkpoint; plus one ViT-B training step each (slow; its time
and peak memory: tools/analysis/full_size_step.py)."""
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from torch.testing import assert_close

import m2pt_mm.engine  # noqa: F401  safe-globals allow-list for reading training checkpoints
from tests.conftest import ROOT, timm_state_dict
from tests.test_audio_video.test_audio_video_models import TINY_AUDIO, TINY_VIDEO


#: Epochs of the test runs (the configs' 20 are for demos; 2 cores are shared)
EPOCHS = 8


def train(config, work, aux, data_root, timeout=300):
    opts = [f'model.backbone.pathway.aux_checkpoint={aux}', f'train_cfg.max_epochs={EPOCHS}',
            f'train_cfg.val_interval={EPOCHS}', f'default_hooks.checkpoint.interval={EPOCHS}'] + [
        f'{loader}.dataset.data_root={data_root}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    result = subprocess.run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(work),
                             '--cfg-options', *opts], cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f'training failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}')
    return result.stdout + result.stderr


def check_deploy(work, epoch):
    train_sd = torch.load(work / f'epoch_{epoch}.pth', weights_only=True)['state_dict']
    deploy_sd = torch.load(work / f'epoch_{epoch}_deploy.pth', weights_only=True)['state_dict']
    assert not any('aux_weight' in k or 'cross_modal_scale' in k for k in deploy_sd)
    for key in ('backbone.layers.0.attn.qkv', 'backbone.layers.3.ffn.layers.1'):
        expected = train_sd[f'{key}.weight'] + (train_sd[f'{key}.cross_modal_scale'] *
                                                train_sd[f'{key}.aux_weight'])
        assert_close(deploy_sd[f'{key}.weight'], expected)
    # W′ came from the image checkpoint (aux_trainable: it moved, but only a little)
    aux = timm_state_dict(seed=1, dims=64)['blocks.0.attn.qkv.weight']
    assert_close(train_sd['backbone.layers.0.attn.qkv.aux_weight'], aux, atol=0.05, rtol=0)


@pytest.fixture
def image_aux(tmp_path):
    path = tmp_path / 'image_aux_timm_64.pth'  # an image ViT (3-channel 8x8 patches), timm layout
    torch.save(timm_state_dict(seed=1, dims=64), path)
    return path


def test_tiny_audio_training_with_image_aux_evaluates_map_and_writes_deploy(tmp_path, image_aux):
    from tools.data.synth_modalities import write_audioset
    data = write_audioset(tmp_path / 'audioset')['train']['data_root']
    log = train(TINY_AUDIO, tmp_path / 'work', image_aux, data)
    match = re.search(r'multi-label/mAP: ([\d.]+)', log)
    assert match and 0 < float(match.group(1)) <= 100, log[-2000:]
    check_deploy(tmp_path / 'work', EPOCHS)


def test_tiny_video_training_with_image_aux_evaluates_accuracy_and_writes_deploy(tmp_path,
                                                                                 image_aux):
    from tools.data.synth_modalities import write_kinetics
    data = write_kinetics(tmp_path / 'kinetics')['train']['data_root']
    log = train(TINY_VIDEO, tmp_path / 'work', image_aux, data)
    match = re.search(r'accuracy/top1: ([\d.]+)\s+accuracy/top5: ([\d.]+)', log)
    assert match and 0 <= float(match.group(1)) <= float(match.group(2)) == 100.0, log[-2000:]
    check_deploy(tmp_path / 'work', EPOCHS)


# ------------------------------------------------------------------ ViT-B, one step on CPU
@pytest.mark.slow
@pytest.mark.parametrize('config, shape', [
    ('configs/audio/m2pt_vit-base-p16-point_audiomae-pre_4xb8-60e_audioset-2k.py', (1, 1024, 128)),
    ('configs/video/m2pt_vit-base-p16-point_videomae-pre_64xb6-75e_k400-16x4.py',
     (3, 16, 224, 224)),
], ids=['audio', 'video'])
def test_vit_b_config_runs_one_training_step_on_cpu(config, shape):
    from mmengine.optim import build_optim_wrapper

    from tools.analysis.full_size_step import build_model, pathway_stand_ins, synthetic_batch
    cfg = Config.fromfile(str(ROOT / config))
    model = build_model(cfg)  # no init_weights: the public checkpoints are not in CI
    pathway_stand_ins(model)  # W′ and λ ≠ 0, so that the pathway takes part in the step
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data = synthetic_batch(cfg, model, 1)
    assert tuple(data['inputs'][0].shape) == shape  # the configured input size
    before = model.backbone.layers[0].attn.qkv.cross_modal_scale.detach().clone()
    losses = model.train_step(data, optim_wrapper)
    assert torch.isfinite(losses['loss'])
    assert not torch.equal(model.backbone.layers[0].attn.qkv.cross_modal_scale.detach(), before)
