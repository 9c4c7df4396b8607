"""One tiny training run per target modality (audio, video) through tools/train.py (in-process),
with an auxiliary checkpoint of another modality (an image ViT in timm layout), evaluated with the
real metric and writing the merged deploy checkpoint; plus one ViT-B training step each (slow; its
time and peak memory: tools/analysis/full_size_step.py)."""

import pytest
import torch
from mmengine.config import Config
from torch.testing import assert_close

import m2pt_mm.engine  # noqa: F401  safe-globals allow-list for reading training checkpoints
from tests.helpers import (ROOT, assert_deploy_is_merge, call_tool, cfg_options, load_tool,
                           state_dict_of)
from tests.test_audio_video.test_audio_video_models import TINY_AUDIO, TINY_VIDEO

#: Epochs of the test runs (the configs' 20 are for demos; 2 cores are shared)
EPOCHS = 8


def train(config, work, aux, data_root) -> dict:
    """Train in-process; returns the last validation metrics."""
    opts = {'model.backbone.pathway.aux_checkpoint': aux, 'train_cfg.max_epochs': EPOCHS,
            'train_cfg.val_interval': EPOCHS, 'default_hooks.checkpoint.interval': EPOCHS}
    opts.update({f'{loader}.dataset.data_root': data_root
                 for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')})
    runner = call_tool('train', config, '--work-dir', work, *cfg_options(opts))
    return {k[len('val/'):]: v.current() for k, v in runner.message_hub.log_scalars.items()
            if k.startswith('val/')}


def check_deploy(work, epoch, aux):
    assert_deploy_is_merge(work / f'epoch_{epoch}.pth', work / f'epoch_{epoch}_deploy.pth')
    # W′ came from the image checkpoint (aux_trainable: it moved, but only a little)
    train_sd = state_dict_of(work / f'epoch_{epoch}.pth')
    image_qkv = torch.load(aux, weights_only=True)['blocks.0.attn.qkv.weight']
    assert_close(train_sd['backbone.layers.0.attn.qkv.aux_weight'], image_qkv, atol=0.05, rtol=0)


def test_tiny_audio_training_with_image_aux_evaluates_map_and_writes_deploy(tmp_path, aux64_file):
    from m2pt_mm.testing.modalities import write_audioset
    data = write_audioset(tmp_path / 'audioset')['train']['data_root']
    metrics = train(TINY_AUDIO, tmp_path / 'work', aux64_file, data)
    assert 0 < metrics['multi-label/mAP'] <= 100, metrics
    check_deploy(tmp_path / 'work', EPOCHS, aux64_file)


def test_tiny_video_training_with_image_aux_evaluates_accuracy_and_writes_deploy(tmp_path,
                                                                                 aux64_file):
    from m2pt_mm.testing.modalities import write_kinetics
    data = write_kinetics(tmp_path / 'kinetics')['train']['data_root']
    metrics = train(TINY_VIDEO, tmp_path / 'work', aux64_file, data)
    assert 0 <= metrics['accuracy/top1'] <= metrics['accuracy/top5'] == 100.0, metrics
    check_deploy(tmp_path / 'work', EPOCHS, aux64_file)


# ------------------------------------------------------------------ ViT-B, one step on CPU
@pytest.mark.slow
@pytest.mark.parametrize('config, shape', [
    ('configs/audio/m2pt_vit-base-p16-point_audiomae-pre_4xb8-60e_audioset-2k.py', (1, 1024, 128)),
    ('configs/video/m2pt_vit-base-p16-point_videomae-pre_64xb6-75e_k400-16x4.py',
     (3, 16, 224, 224)),
], ids=['audio', 'video'])
def test_vit_b_config_runs_one_training_step_on_cpu(config, shape):
    from mmengine.optim import build_optim_wrapper

    step = load_tool('analysis/full_size_step')
    build_model, pathway_stand_ins, synthetic_batch = (step.build_model, step.pathway_stand_ins,
                                                       step.synthetic_batch)
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
