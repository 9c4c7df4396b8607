"""A tiny MAE pretraining run per modality through tools/train.py: its first step's loss (same
batch, same masks) is lower with the trained weights than with the initial ones, and its
checkpoint then serves, unconverted, as the aux model of a backbone of another modality."""
import pytest
import torch
from mmpretrain.registry import MODELS

import m2pt_mm.models  # noqa: F401  registers
from m2pt_mm.checkpoints import read_checkpoint
from m2pt_mm.pathway import MMPRETRAIN_LAYERS
from m2pt_mm.testing.modalities import write_audioset, write_kinetics, write_shapenet55
from m2pt_mm.testing.tiny import TINY
from tests.helpers import (
    ROOT,
    call_tool,
    cfg_options,
    first_step_loss,
    record_start_options,
    start_of_training,
)

TINY_ARCH = dict(TINY, num_layers=2)

#: pretraining modality → (tiny config, tiny-set writer, the target backbone that takes it as aux:
#: another modality's tokenizer, same blocks)
RUNS = {
    'audio': ('audiomae_m2pt-vit-tiny-p8_1xb2-4i_audioset-tiny.py', write_audioset,
              dict(tokenizer=dict(type='PointTokenizer', num_groups=16, group_size=16),
                   with_cls_token=False, out_type='avg_featmap')),
    'video': ('videomae_m2pt-vit-tiny-p8_1xb2-4i_k400-tiny.py', write_kinetics,
              dict(img_size=32, patch_size=8)),  # an image target
    'point': ('pointmae_m2pt-vit-tiny-g16_1xb2-4i_shapenet55-tiny.py', write_shapenet55,
              dict(tokenizer=dict(type='AudioTokenizer', num_frames=64, num_mel_bins=32,
                                  patch_size=8))),
}


@pytest.mark.parametrize('modality', sorted(RUNS))
def test_tiny_pretraining_checkpoint_serves_as_aux(tmp_path, modality):
    config, writer, target = RUNS[modality]
    writer(tmp_path / 'data')
    work = tmp_path / 'work'
    runner = call_tool('train', ROOT / 'configs' / 'mae' / config, '--work-dir', work,
                       *cfg_options({'train_dataloader.dataset.data_root': tmp_path / 'data',
                                     **record_start_options()}))
    losses = [float(v) for v in runner.message_hub.get_scalar('train/loss').data[0]]
    assert len(losses) == 4 and all(torch.isfinite(torch.tensor(losses)))
    # Each step draws other samples and other masks, so the logged losses rise and fall by
    # chance; the first step's batch and masks, recomputed, compare the weights alone
    before = first_step_loss(runner, start_of_training(runner).initial_state)
    torch.testing.assert_close(before, losses[0])  # it is the first step, recomputed
    after = first_step_loss(runner)
    # measured after/before: audio 0.61, point 0.31, video 0.94 (audio 0.61, video 0.94 with
    # seed 1; point 0.29 and 0.21 on the ShapeNetPart data it read before ShapeNet-55)
    assert after < 0.97 * before, (before, after)
    checkpoint = work / 'iter_4.pth'
    assert checkpoint.is_file()

    state = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    ckpt = read_checkpoint(checkpoint)  # the reader takes the training checkpoint as it is
    assert (ckpt.depth, ckpt.embed_dims) == (2, 32)
    assert all(k.startswith(('neck.', 'head.')) or k == 'data_preprocessor' for k in ckpt.dropped)

    backbone = MODELS.build(dict(type='M2PTVisionTransformer', arch=TINY_ARCH,
                                 pathway=dict(aux_checkpoint=str(checkpoint)), **target))
    backbone.init_weights()
    for i, layer in enumerate(backbone.layers):
        for alias, path in MMPRETRAIN_LAYERS.items():
            linear = layer.get_submodule(path)
            torch.testing.assert_close(linear.aux_weight,
                                       state[f'backbone.layers.{i}.{path}.weight'],
                                       rtol=0, atol=0, msg=f'block {i} {alias}')
            # W stays the target's own (random) weight: only W′ comes from the checkpoint
            assert not torch.equal(linear.weight, state[f'backbone.layers.{i}.{path}.weight'])
